// Runs an ONNX model in ONNX Runtime (the npm package onnxruntime-node, CPU,
// one thread) over a file of inputs, batch by batch, and writes its outputs.
//
//   NODE_PATH=<dir holding onnxruntime-node> node onnx_run.js model.onnx \
//       inputs.f32 C,H,W batch logits.f32 [all|disabled]
//
// inputs.f32: N * C * H * W little-endian float32 (NCHW), fed to the graph
// input "input"; logits.f32: the output "logits" of each batch, in order.
// The last argument is ONNX Runtime's graph optimization level: "all" (the
// default, which also rewrites QDQ groups into integer kernels) or "disabled"
// (every operator as the file states it).
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
  const [model, inputsPath, dimsText, batchText, outputPath, optimization = 'all'] = process.argv.slice(2);
  if (!outputPath) {
    throw new Error('usage: onnx_run.js MODEL INPUTS.f32 C,H,W BATCH OUTPUT.f32 [all|disabled]');
  }
  const dims = dimsText.split(',').map(Number);
  const sample = dims.reduce((a, b) => a * b, 1);
  const batch = Number(batchText);
  const bytes = fs.readFileSync(inputsPath);
  if (bytes.length % (4 * sample) !== 0) {
    throw new Error(`${inputsPath}: ${bytes.length} bytes is not a whole number of ${dims} float32 samples`);
  }
  const inputs = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  const n = inputs.length / sample;
  const session = await ort.InferenceSession.create(model, {
    graphOptimizationLevel: optimization,
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  });
  const chunks = [];
  for (let start = 0; start < n; start += batch) {
    const b = Math.min(batch, n - start);
    const x = new ort.Tensor('float32', inputs.subarray(start * sample, (start + b) * sample), [b, ...dims]);
    const out = await session.run({ input: x });
    chunks.push(Buffer.from(out.logits.data.buffer, out.logits.data.byteOffset, out.logits.data.byteLength));
  }
  fs.writeFileSync(outputPath, Buffer.concat(chunks));
  console.log(`onnx_run: ${model}: ${n} samples in batches of ${batch}, optimization ${optimization}`);
}

main().catch((e) => {
  console.error(`onnx_run: error: ${e.message}`);
  process.exit(1);
});
