// The process-wide oneDNN CPU engine, the stream every primitive runs on, and
// an allocation-free way to execute a primitive. One engine and one in-order
// stream keep primitive caches and OpenMP thread pools shared across layers.
//
//   Execute(conv, {{DNNL_ARG_SRC, src.memory()}, {DNNL_ARG_WEIGHTS, w.memory()},
//                  {DNNL_ARG_DST, dst.memory()}});
//   Stream().wait();
#ifndef PSG_ENGINE_CONTEXT_H_
#define PSG_ENGINE_CONTEXT_H_

#include <initializer_list>

#include "oneapi/dnnl/dnnl.hpp"

namespace psg::engine {

dnnl::engine& Cpu();
dnnl::stream& Stream();

struct ExecArg {
  int key;
  const dnnl::memory& memory;
};

// Runs `primitive` on Stream(). Unlike primitive::execute, which builds an
// unordered_map and a vector per call, this allocates nothing. Arguments whose
// memory is empty are skipped (e.g. an absent bias).
void Execute(const dnnl::primitive& primitive, std::initializer_list<ExecArg> args);

}  // namespace psg::engine

#endif  // PSG_ENGINE_CONTEXT_H_
