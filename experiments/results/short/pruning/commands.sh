# snip_0.5
bazel run //experiments:train -- '--epochs=20' '--schedule=onecycle' '--lr=0.1' '--nesterov' '--weight_decay=5e-4' '--momentum=0.9' '--batch_size=128' '--seed=1' '--prune_method=snip' '--prune_sparsity=0.5' '--threads=1' '--output_dir=/work/prune/run/snip_0.5' '--resume=auto'
# l0_lambda0.0001_adam_lr0.001
bazel run //experiments:train -- '--epochs=8' '--schedule=multistep' '--lr=0.01' '--milestones=6' '--weight_decay=1e-4' '--momentum=0.9' '--batch_size=128' '--seed=1' '--init_from=/work/prune/shared/sgd/last.safetensors' '--prune_method=l0' '--l0_lambda=0.0001' '--l0_gate_optimizer=adam' '--l0_gate_lr=0.001' '--threads=1' '--output_dir=/work/prune/run/l0_lambda0.0001_adam_lr0.001' '--resume=auto'
# l0_lambda0.0005_adam_lr0.001
bazel run //experiments:train -- '--epochs=8' '--schedule=multistep' '--lr=0.01' '--milestones=6' '--weight_decay=1e-4' '--momentum=0.9' '--batch_size=128' '--seed=1' '--init_from=/work/prune/shared/sgd/last.safetensors' '--prune_method=l0' '--l0_lambda=0.0005' '--l0_gate_optimizer=adam' '--l0_gate_lr=0.001' '--threads=1' '--output_dir=/work/prune/run/l0_lambda0.0005_adam_lr0.001' '--resume=auto'
# l0_lambda0.002_adam_lr0.001
bazel run //experiments:train -- '--epochs=8' '--schedule=multistep' '--lr=0.01' '--milestones=6' '--weight_decay=1e-4' '--momentum=0.9' '--batch_size=128' '--seed=1' '--init_from=/work/prune/shared/sgd/last.safetensors' '--prune_method=l0' '--l0_lambda=0.002' '--l0_gate_optimizer=adam' '--l0_gate_lr=0.001' '--threads=1' '--output_dir=/work/prune/run/l0_lambda0.002_adam_lr0.001' '--resume=auto'
# prune_sweep_psgd_zero_lambda50_holdout
bazel run //experiments:prune_sweep -- '--sparsity=0.5,0.7,0.8,0.9' '--scope=global' '--holdout_images=10000' '--checkpoint=/work/prune/shared/psgd_zero_lambda50_holdout/last.safetensors' '--threads=1' '--output_dir=/work/prune/run/prune_sweep_psgd_zero_lambda50_holdout'
# l0_lambda0.0005_adam_lr0.01
bazel run //experiments:train -- --epochs=8 --schedule=multistep --lr=0.01 --milestones=6 --weight_decay=1e-4 --momentum=0.9 --batch_size=128 --seed=1 --init_from=/work/prune/shared/sgd/last.safetensors --prune_method=l0 --l0_lambda=0.0005 --l0_gate_optimizer=adam --l0_gate_lr=0.01 --threads=1 --output_dir=/work/prune/run/l0_lambda0.0005_adam_lr0.01 --resume=auto
# prune_sweep_psgd_zero_lambda150_holdout
bazel run //experiments:prune_sweep -- '--sparsity=0.5,0.7,0.8,0.9' '--scope=global' '--holdout_images=10000' '--checkpoint=/work/prune/shared/psgd_zero_lambda150_holdout/last.safetensors' '--threads=1' '--output_dir=/work/prune/run/prune_sweep_psgd_zero_lambda150_holdout'
# l0_lambda0.0001_adam_lr0.01
bazel run //experiments:train -- --epochs=8 --schedule=multistep --lr=0.01 --milestones=6 --weight_decay=1e-4 --momentum=0.9 --batch_size=128 --seed=1 --init_from=/work/prune/shared/sgd/last.safetensors --prune_method=l0 --l0_lambda=0.0001 --l0_gate_optimizer=adam --l0_gate_lr=0.01 --threads=1 --output_dir=/work/prune/run/l0_lambda0.0001_adam_lr0.01 --resume=auto
# prune_sweep_psgd_zero_lambda500_holdout
bazel run //experiments:prune_sweep -- '--sparsity=0.5,0.7,0.8,0.9' '--scope=global' '--holdout_images=10000' '--checkpoint=/work/prune/shared/psgd_zero_lambda500_holdout/last.safetensors' '--threads=1' '--output_dir=/work/prune/run/prune_sweep_psgd_zero_lambda500_holdout'
# l0_lambda2e-05_adam_lr0.01
bazel run //experiments:train -- --epochs=8 --schedule=multistep --lr=0.01 --milestones=6 --weight_decay=1e-4 --momentum=0.9 --batch_size=128 --seed=1 --init_from=/work/prune/shared/sgd/last.safetensors --prune_method=l0 --l0_lambda=2e-05 --l0_gate_optimizer=adam --l0_gate_lr=0.01 --threads=1 --output_dir=/work/prune/run/l0_lambda2e-05_adam_lr0.01 --resume=auto
# prune_sweep_sgd_continued
bazel run //experiments:prune_sweep -- '--sparsity=0.5,0.7,0.8,0.9' '--scope=global' '--checkpoint=/work/prune/shared/sgd_continued/last.safetensors' '--threads=1' '--output_dir=/work/prune/run/prune_sweep_sgd_continued'
# prune_sweep_psgd_zero_lambda50
bazel run //experiments:prune_sweep -- '--sparsity=0.5,0.7,0.8,0.9' '--scope=global' '--checkpoint=/work/prune/shared/psgd_zero_lambda50/last.safetensors' '--threads=1' '--output_dir=/work/prune/run/prune_sweep_psgd_zero_lambda50'
# prune_sweep_psgd_zero_lambda150
bazel run //experiments:prune_sweep -- '--sparsity=0.5,0.7,0.8,0.9' '--scope=global' '--checkpoint=/work/prune/shared/psgd_zero_lambda150/last.safetensors' '--threads=1' '--output_dir=/work/prune/run/prune_sweep_psgd_zero_lambda150'
# prune_sweep_psgd_zero_lambda500
bazel run //experiments:prune_sweep -- '--sparsity=0.5,0.7,0.8,0.9' '--scope=global' '--checkpoint=/work/prune/shared/psgd_zero_lambda500/last.safetensors' '--threads=1' '--output_dir=/work/prune/run/prune_sweep_psgd_zero_lambda500'
