# gradient_l1_0.0001
bazel run //experiments:train -- '--epochs=8' '--schedule=multistep' '--lr=0.01' '--milestones=6' '--weight_decay=1e-4' '--momentum=0.9' '--batch_size=128' '--seed=1' '--init_from=/work/short/shared/sgd/last.safetensors' '--gradient_l1=0.0001' '--threads=1' '--output_dir=/work/short/regularizers/gradient_l1_0.0001' '--resume=auto'
# lipschitz_0.0003
bazel run //experiments:train -- '--epochs=8' '--schedule=multistep' '--lr=0.01' '--milestones=6' '--weight_decay=1e-4' '--momentum=0.9' '--batch_size=128' '--seed=1' '--init_from=/work/short/shared/sgd/last.safetensors' '--lipschitz=0.0003' '--threads=1' '--output_dir=/work/short/regularizers/lipschitz_0.0003' '--resume=auto'
# ptq_sgd_continued
bazel run //experiments:ptq -- '--checkpoint=/work/short/shared/sgd_continued/last.safetensors' '--bits=8,4' '--threads=1' '--output_dir=/work/short/regularizers/ptq_sgd_continued'
# ptq_gradient_l1_0.0001
bazel run //experiments:ptq -- '--checkpoint=/work/short/regularizers/gradient_l1_0.0001/last.safetensors' '--bits=8,4' '--threads=1' '--output_dir=/work/short/regularizers/ptq_gradient_l1_0.0001'
# ptq_lipschitz_0.0003
bazel run //experiments:ptq -- '--checkpoint=/work/short/regularizers/lipschitz_0.0003/last.safetensors' '--bits=8,4' '--threads=1' '--output_dir=/work/short/regularizers/ptq_lipschitz_0.0003'
# ptq_psgd_w4_lambda150
bazel run //experiments:ptq -- '--checkpoint=/work/short/shared/psgd_w4_lambda150/last.safetensors' '--bits=8,4' '--threads=1' '--output_dir=/work/short/regularizers/ptq_psgd_w4_lambda150'
