# prune_sweep_psgd_zero_lambda200_holdout
bazel run //experiments:prune_sweep -- '--scope=global' '--holdout_images=10000' '--checkpoint=/work/paper/shared/psgd_zero_lambda200_holdout/last.safetensors' '--sparsity=0.5,0.7,0.8,0.9' '--model=resnet32' '--dataset=cifar100' '--threads=2' '--output_dir=/work/paper/lambda_search_check/prune_sweep_psgd_zero_lambda200_holdout'
# prune_sweep_psgd_zero_lambda400_holdout
bazel run //experiments:prune_sweep -- '--scope=global' '--holdout_images=10000' '--checkpoint=/work/paper/shared/psgd_zero_lambda400_holdout/last.safetensors' '--sparsity=0.5,0.7,0.8,0.9' '--model=resnet32' '--dataset=cifar100' '--threads=2' '--output_dir=/work/paper/lambda_search_check/prune_sweep_psgd_zero_lambda400_holdout'
