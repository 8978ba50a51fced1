# ptq_sgd_continued
bazel run //experiments:ptq -- '--checkpoint=/work/short/shared/sgd_continued/last.safetensors' '--bits=8,6,4,3,2' '--threads=1' '--output_dir=/work/short/quant_vs_bits/ptq_sgd_continued'
# ptq_psgd_w4_lambda150
bazel run //experiments:ptq -- '--checkpoint=/work/short/shared/psgd_w4_lambda150/last.safetensors' '--bits=8,6,4,3,2' '--threads=1' '--output_dir=/work/short/quant_vs_bits/ptq_psgd_w4_lambda150'
# ptq_act_sgd_continued
bazel run //experiments:ptq -- '--checkpoint=/work/short/shared/sgd_continued/last.safetensors' '--bits=8,6,4,3,2' '--act_bits=same' '--threads=1' '--output_dir=/work/short/quant_vs_bits/ptq_act_sgd_continued'
# ptq_act_psgd_w4_lambda150
bazel run //experiments:ptq -- '--checkpoint=/work/short/shared/psgd_w4_lambda150/last.safetensors' '--bits=8,6,4,3,2' '--act_bits=same' '--threads=1' '--output_dir=/work/short/quant_vs_bits/ptq_act_psgd_w4_lambda150'
# histogram
bazel run //experiments:weight_histogram -- '--checkpoints=SGD=/work/short/shared/sgd_continued/last.safetensors,PSGD@W4=/work/short/shared/psgd_w4_lambda150/last.safetensors' '--layer=layer2.0.conv1.weight' '--bits=4' '--threads=1' '--output_dir=/work/short/quant_vs_bits/histogram'
