// Built with -mamx-tile -mamx-bf16 (bench:peak_amx_bf16).
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "bench/peak/kernels.h"

namespace psg::bench {
namespace {

// The tile configuration (Intel SDM 3.3): palette 1, tiles 0-3 accumulators
// (16 rows x 64 bytes of f32), 4-5 the A operands, 6 the B operand (16 rows
// x 64 bytes of bf16 pairs).
struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t bytes_per_row[16] = {};
  uint8_t rows[16] = {};
};

}  // namespace

double AmxBf16Flops(int64_t iterations) {
  TileConfig config;
  for (int t = 0; t < 7; ++t) {
    config.bytes_per_row[t] = 64;
    config.rows[t] = 16;
  }
  _tile_loadconfig(&config);
  alignas(64) static uint16_t operand[16 * 32];
  for (int i = 0; i < 16 * 32; ++i) operand[i] = 0x3c00;  // bf16 0.0078125
  alignas(64) static float result[16 * 16];
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  _tile_loadd(4, operand, 64);
  _tile_loadd(5, operand, 64);
  _tile_loadd(6, operand, 64);
  for (int64_t it = 0; it < iterations; ++it) {
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 5, 6);
    _tile_dpbf16ps(2, 4, 6);
    _tile_dpbf16ps(3, 5, 6);
  }
  _tile_stored(0, result, 64);
  _tile_release();
  volatile float sink = result[0];
  (void)sink;
  // Each tdpbf16ps: 16 x 16 outputs x 32 products x 2 FLOP.
  return 4.0 * 16 * 16 * 32 * 2 * static_cast<double>(iterations);
}

}  // namespace psg::bench
