# ptq_adam_continued_lr0.00015
bazel run //experiments:ptq -- '--checkpoint=/work/adam/shared/adam_continued_lr0.00015/last.safetensors' '--bits=8,6,4,3,2' '--threads=1' '--output_dir=/work/adam/run/ptq_adam_continued_lr0.00015'
# ptq_psgd_w4_lambda150_adam
bazel run //experiments:ptq -- '--checkpoint=/work/adam/shared/psgd_w4_lambda150_adam/last.safetensors' '--bits=8,6,4,3,2' '--threads=1' '--output_dir=/work/adam/run/ptq_psgd_w4_lambda150_adam'
# ptq_act_adam_continued_lr0.00015
bazel run //experiments:ptq -- '--checkpoint=/work/adam/shared/adam_continued_lr0.00015/last.safetensors' '--bits=8,6,4,3,2' '--act_bits=same' '--threads=1' '--output_dir=/work/adam/run/ptq_act_adam_continued_lr0.00015'
# ptq_act_psgd_w4_lambda150_adam
bazel run //experiments:ptq -- '--checkpoint=/work/adam/shared/psgd_w4_lambda150_adam/last.safetensors' '--bits=8,6,4,3,2' '--act_bits=same' '--threads=1' '--output_dir=/work/adam/run/ptq_act_psgd_w4_lambda150_adam'
# histogram
bazel run //experiments:weight_histogram -- '--checkpoints=Adam=/work/adam/shared/adam_continued_lr0.00015/last.safetensors,PSGD-Adam@W4=/work/adam/shared/psgd_w4_lambda150_adam/last.safetensors' '--layer=layer2.0.conv1.weight' '--bits=4' '--threads=1' '--output_dir=/work/adam/run/histogram'
