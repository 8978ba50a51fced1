#include "engine/context.h"

#include "engine/check.h"

namespace psg::engine {

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
  const dnnl_status_t status =
      dnnl_primitive_execute(primitive.get(), Stream().get(), count, c_args);
  if (status != dnnl_success) {
    throw std::runtime_error(absl::StrCat("oneDNN primitive execution failed, status ", status));
  }
}

}  // namespace psg::engine
