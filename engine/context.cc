#include "engine/context.h"

#include <chrono>
#include <string>

#include "engine/check.h"
#include "engine/profiler.h"
#include "oneapi/dnnl/dnnl_debug.h"

namespace psg::engine {
namespace {

// "convolution backward_weights", "reorder", ...: the profiler's key.
std::string PrimitiveName(const dnnl::primitive& primitive) {
  const_dnnl_primitive_desc_t pd = nullptr;
  dnnl_primitive_kind_t kind = dnnl_undefined_primitive;
  if (dnnl_primitive_get_primitive_desc(primitive.get(), &pd) != dnnl_success ||
      dnnl_primitive_desc_query(pd, dnnl_query_primitive_kind, 0, &kind) != dnnl_success) {
    return "unknown";
  }
  std::string name = dnnl_prim_kind2str(kind);
  dnnl_prop_kind_t prop = dnnl_prop_kind_undef;
  if (dnnl_primitive_desc_query(pd, dnnl_query_prop_kind, 0, &prop) == dnnl_success &&
      prop != dnnl_prop_kind_undef) {
    // Training and inference forward are one direction for the profile.
    name += prop == dnnl_forward_training || prop == dnnl_forward_inference
                ? " forward"
                : std::string(" ") + dnnl_prop_kind2str(prop);
  }
  return name;
}

}  // namespace

dnnl::engine& Cpu() {
  static dnnl::engine* const engine = new dnnl::engine(dnnl::engine::kind::cpu, 0);
  return *engine;
}

dnnl::stream& Stream() {
  static dnnl::stream* const stream = new dnnl::stream(Cpu());
  return *stream;
}

void Execute(const dnnl::primitive& primitive, std::initializer_list<ExecArg> args) {
  constexpr int kMaxArgs = 16;
  PSG_CHECK(args.size() <= kMaxArgs, "Execute: at most ", kMaxArgs, " arguments");
  dnnl_exec_arg_t c_args[kMaxArgs];
  int count = 0;
  for (const ExecArg& arg : args) {
    if (!arg.memory) continue;
    c_args[count++] = {arg.key, arg.memory.get()};
  }
  Profiler* const profiler = Profiler::Active();
  const auto start = std::chrono::steady_clock::now();
  const dnnl_status_t status =
      dnnl_primitive_execute(primitive.get(), Stream().get(), count, c_args);
  if (profiler != nullptr) {
    // CPU primitives have finished when execute returns (OpenMP runtime).
    profiler->AddPrimitive(
        PrimitiveName(primitive),
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  if (status != dnnl_success) {
    throw std::runtime_error(absl::StrCat("oneDNN primitive execution failed, status ", status));
  }
}

}  // namespace psg::engine
