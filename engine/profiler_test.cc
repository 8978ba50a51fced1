#include "engine/profiler.h"

#include <string>

#include "engine/context.h"
#include "gtest/gtest.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace psg::engine {
namespace {

using dnnl::memory;

// A plain -> blocked reorder of a {8, 16, 4, 4} tensor, run through Execute.
struct ReorderRun {
  memory src{{{8, 16, 4, 4}, memory::data_type::f32, memory::format_tag::nchw}, Cpu()};
  memory dst{{{8, 16, 4, 4}, memory::data_type::f32, memory::format_tag::nChw16c}, Cpu()};
  dnnl::reorder reorder{src, dst};
  void operator()() { Execute(reorder, {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, dst}}); }
};

TEST(ProfilerTest, AttributesPrimitivesToTheInnermostScope) {
  ReorderRun run;
  Profiler profiler;
  {
    Profiler::Recording recording(&profiler);
    ProfileScope outer("block", Phase::kForward);
    {
      ProfileScope inner("block.conv", Phase::kForward);
      run();
      run();
    }
  }
  ASSERT_EQ(profiler.entries().size(), 2u);
  const Profiler::Entry& outer = profiler.entries()[0];
  const Profiler::Entry& inner = profiler.entries()[1];
  EXPECT_EQ(outer.name, "block");
  EXPECT_EQ(outer.depth, 0);
  EXPECT_EQ(inner.name, "block.conv");
  EXPECT_EQ(inner.depth, 1);
  EXPECT_EQ(outer.calls, 1);
  EXPECT_EQ(inner.calls, 1);
  EXPECT_EQ(outer.primitive_seconds, 0.0);
  EXPECT_GT(inner.primitive_seconds, 0.0);
  EXPECT_EQ(outer.child_seconds, inner.seconds);
  EXPECT_GE(outer.seconds, inner.seconds);
  EXPECT_GE(inner.seconds, inner.primitive_seconds);
  ASSERT_EQ(profiler.primitive_seconds_by_kind().size(), 1u);
  EXPECT_EQ(profiler.primitive_seconds_by_kind().begin()->first, "reorder");
  EXPECT_EQ(profiler.primitive_seconds(), inner.primitive_seconds);
  EXPECT_GE(profiler.recorded_seconds(), outer.seconds);
}

TEST(ProfilerTest, MergesRepeatedScopesAndKeepsPhasesApart) {
  Profiler profiler;
  {
    Profiler::Recording recording(&profiler);
    for (int step = 0; step < 3; ++step) {
      { ProfileScope s("conv1", Phase::kForward); }
      { ProfileScope s("loss", Phase::kOther); }
      { ProfileScope s("conv1", Phase::kBackward); }
    }
  }
  ASSERT_EQ(profiler.entries().size(), 3u);
  EXPECT_EQ(profiler.entries()[0].phase, Phase::kForward);
  EXPECT_EQ(profiler.entries()[1].phase, Phase::kOther);
  EXPECT_EQ(profiler.entries()[2].phase, Phase::kBackward);
  for (const Profiler::Entry& e : profiler.entries()) EXPECT_EQ(e.calls, 3);
  const std::string table = profiler.Table(3);
  EXPECT_NE(table.find("conv1"), std::string::npos);
  EXPECT_NE(table.find("outside primitives: loss"), std::string::npos);
  const nlohmann::ordered_json json = profiler.Json(3);
  EXPECT_EQ(json["steps"], 3);
  bool loss_found = false;
  for (const auto& scope : json["scopes"]) {
    loss_found |= scope["name"] == "loss" && scope["phase"] == "other";
  }
  EXPECT_TRUE(loss_found);
}

TEST(ProfilerTest, RecordsNothingWhenInactiveAndRestoresThePreviousProfiler) {
  ReorderRun run;
  Profiler outer_profiler, inner_profiler;
  EXPECT_EQ(Profiler::Active(), nullptr);
  {
    ProfileScope s("unrecorded", Phase::kForward);
    run();
  }
  {
    Profiler::Recording outer(&outer_profiler);
    {
      Profiler::Recording inner(&inner_profiler);
      EXPECT_EQ(Profiler::Active(), &inner_profiler);
      ProfileScope s("inner", Phase::kForward);
    }
    EXPECT_EQ(Profiler::Active(), &outer_profiler);
    run();
  }
  EXPECT_EQ(Profiler::Active(), nullptr);
  EXPECT_TRUE(outer_profiler.entries().empty());
  EXPECT_GT(outer_profiler.primitive_seconds(), 0.0);
  ASSERT_EQ(inner_profiler.entries().size(), 1u);
  EXPECT_EQ(inner_profiler.entries()[0].name, "inner");
  EXPECT_EQ(inner_profiler.primitive_seconds(), 0.0);
}

}  // namespace
}  // namespace psg::engine
