// Precision names, and whether bf16 layers can be built: exactly where the CPU
// (as oneDNN is allowed to use it) has AVX512-BF16. Run twice by Bazel: as is,
// and with ONEDNN_MAX_CPU_ISA=AVX512_CORE, where bf16 must be refused.
#include "engine/precision.h"

#include <cstdlib>
#include <string>

#include "engine/conv2d.h"
#include "engine/linear.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psg::engine {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(PrecisionTest, ParsesTheTwoNames) {
  Precision p = Precision::kFp32;
  std::string error;
  EXPECT_TRUE(AbslParseFlag("bf16", &p, &error));
  EXPECT_EQ(p, Precision::kBf16);
  EXPECT_TRUE(AbslParseFlag("fp32", &p, &error));
  EXPECT_EQ(p, Precision::kFp32);
  EXPECT_STREQ(PrecisionName(Precision::kBf16), "bf16");
  EXPECT_STREQ(PrecisionName(Precision::kFp32), "fp32");
  EXPECT_EQ(AbslUnparseFlag(Precision::kBf16), "bf16");
  EXPECT_EQ(ActivationType(Precision::kBf16), dnnl::memory::data_type::bf16);
  EXPECT_FALSE(AbslParseFlag("fp16", &p, &error));
  EXPECT_EQ(error, "expected one of: fp32, bf16");
}

// The CPU's own answer (cpuid, through GCC), or none in the variant built with
// PSG_ONEDNN_CAPPED, which runs with oneDNN capped below avx512_core_bf16.
bool CpuRunsBf16() {
#ifdef PSG_ONEDNN_CAPPED
  return false;
#else
  return __builtin_cpu_supports("avx512bf16");
#endif
}

TEST(PrecisionTest, Bf16IsAvailableExactlyWhereTheCpuHasIt) {
#ifdef PSG_ONEDNN_CAPPED
  const char* cap = std::getenv("ONEDNN_MAX_CPU_ISA");
  ASSERT_TRUE(cap != nullptr && std::string(cap) == "AVX512_CORE")
      << "the capped variant must run with ONEDNN_MAX_CPU_ISA=AVX512_CORE";
#endif
  EXPECT_EQ(Bf16Supported(), CpuRunsBf16()) << "oneDNN's ISA: " << EffectiveIsaName();
  EXPECT_NO_THROW(RequirePrecision(Precision::kFp32));
  EXPECT_NO_THROW(Conv2d("conv", {.in_channels = 3, .out_channels = 4}));
  if (CpuRunsBf16()) {
    EXPECT_NO_THROW(RequirePrecision(Precision::kBf16));
    EXPECT_NO_THROW(Conv2d("conv", {.in_channels = 3, .out_channels = 4,
                                    .precision = Precision::kBf16}));
    return;
  }
  const auto refused = ::testing::ThrowsMessage<std::runtime_error>(
      AllOf(HasSubstr("bf16 needs a CPU with AVX512-BF16"), HasSubstr(EffectiveIsaName()),
            HasSubstr("--precision=fp32")));
  EXPECT_THAT([] { RequirePrecision(Precision::kBf16); }, refused);
  EXPECT_THAT([] { Conv2d("conv", {.in_channels = 3, .out_channels = 4,
                                   .precision = Precision::kBf16}); },
              refused);
  EXPECT_THAT([] { Linear("fc", {.in_features = 3, .out_features = 4,
                                 .precision = Precision::kBf16}); },
              refused);
}

}  // namespace
}  // namespace psg::engine
