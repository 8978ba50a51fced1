// Runs an ONNX model in ONNX Runtime (the npm package onnxruntime-node, CPU,
// one thread) over a NumPy file of inputs, batch by batch, and writes its
// outputs as a NumPy file.
//
//   NODE_PATH="$(bash tools/get_onnxruntime.sh)" node interop/onnx_run.js \
//       model.onnx images.npy logits.npy [batch] [all|disabled]
//
// images.npy: float32 {N, C, H, W} (little-endian, C order, as numpy.save and
// //experiments:logits write it), fed to the graph input "input" in batches
// of `batch` (default 100); logits.npy: the graph output "logits" of every
// batch, {N, classes}. The last argument is ONNX Runtime's graph optimization
// level: "all" (the default, which also rewrites QDQ groups into integer
// kernels where it can) or "disabled" (every operator as the file states it).
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

// {shape, data: Float32Array} of a float32 .npy file (format 1.0 to 3.0).
function readNpy(path) {
  const bytes = fs.readFileSync(path);
  if (bytes.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${path}: not a .npy file`);
  const major = bytes[6];
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + headerLength;
  const header = bytes.toString('latin1', major === 1 ? 10 : 12, start);
  if (!/'descr':\s*'<f4'/.test(header) || /'fortran_order':\s*True/.test(header)) {
    throw new Error(`${path}: expected little-endian float32 in C order, header ${header.trim()}`);
  }
  const shape = header.match(/'shape':\s*\(([^)]*)\)/)[1].split(',').filter((s) => s.trim()).map(Number);
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + bytes.length));
  return { shape, data };
}

function writeNpy(path, shape, data) {
  let dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  dict += ' '.repeat((64 - ((10 + dict.length + 1) % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY\x01\x00', 0, 'latin1');
  head.writeUInt16LE(dict.length, 8);
  fs.writeFileSync(path, Buffer.concat([head, Buffer.from(dict, 'latin1'),
    Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

async function main() {
  const [model, imagesPath, outputPath, batchText = '100', optimization = 'all'] = process.argv.slice(2);
  if (!outputPath) throw new Error('usage: onnx_run.js MODEL IMAGES.npy OUTPUT.npy [BATCH] [all|disabled]');
  const images = readNpy(imagesPath);
  const [n, ...sample] = images.shape;
  const size = sample.reduce((a, b) => a * b, 1);
  const batch = Number(batchText);
  const session = await ort.InferenceSession.create(model, {
    graphOptimizationLevel: optimization,
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  });
  const outputs = [];
  let classes = 0;
  for (let start = 0; start < n; start += batch) {
    const b = Math.min(batch, n - start);
    const x = new ort.Tensor('float32', images.data.subarray(start * size, (start + b) * size), [b, ...sample]);
    const y = (await session.run({ input: x })).logits;
    classes = y.dims[1];
    outputs.push(y.data);
  }
  const logits = new Float32Array(n * classes);
  outputs.reduce((offset, y) => (logits.set(y, offset), offset + y.length), 0);
  writeNpy(outputPath, [n, classes], logits);
  console.log(`onnx_run: ${model}: ${n} samples in batches of ${batch}, optimization ${optimization}`);
}

main().catch((e) => {
  console.error(`onnx_run: error: ${e.message}`);
  process.exit(1);
});
