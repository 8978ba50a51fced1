# sgd
bazel run //experiments:train -- '--epochs=20' '--schedule=onecycle' '--lr=0.1' '--nesterov' '--weight_decay=5e-4' '--momentum=0.9' '--batch_size=128' '--seed=1' '--threads=1' '--output_dir=/work/prune/shared/sgd' '--resume=auto'
# psgd_zero_lambda50_holdout
bazel run //experiments:train -- '--epochs=8' '--schedule=multistep' '--lr=0.01' '--milestones=6' '--weight_decay=1e-4' '--momentum=0.9' '--batch_size=128' '--seed=1' '--optimizer=psgd' '--psg_target=zero' '--psg_lambda=50' '--holdout_images=10000' '--init_from=/work/prune/shared/sgd/last.safetensors' '--threads=1' '--output_dir=/work/prune/shared/psgd_zero_lambda50_holdout' '--resume=auto'
# psgd_zero_lambda150_holdout
bazel run //experiments:train -- '--epochs=8' '--schedule=multistep' '--lr=0.01' '--milestones=6' '--weight_decay=1e-4' '--momentum=0.9' '--batch_size=128' '--seed=1' '--optimizer=psgd' '--psg_target=zero' '--psg_lambda=150' '--holdout_images=10000' '--init_from=/work/prune/shared/sgd/last.safetensors' '--threads=1' '--output_dir=/work/prune/shared/psgd_zero_lambda150_holdout' '--resume=auto'
# psgd_zero_lambda150_holdout
bazel run //experiments:train -- '--epochs=8' '--schedule=multistep' '--lr=0.01' '--milestones=6' '--weight_decay=1e-4' '--momentum=0.9' '--batch_size=128' '--seed=1' '--optimizer=psgd' '--psg_target=zero' '--psg_lambda=150' '--holdout_images=10000' '--init_from=/work/prune/shared/sgd/last.safetensors' '--threads=1' '--output_dir=/work/prune/shared/psgd_zero_lambda150_holdout' '--resume=auto'
# psgd_zero_lambda500_holdout
bazel run //experiments:train -- '--epochs=8' '--schedule=multistep' '--lr=0.01' '--milestones=6' '--weight_decay=1e-4' '--momentum=0.9' '--batch_size=128' '--seed=1' '--optimizer=psgd' '--psg_target=zero' '--psg_lambda=500' '--holdout_images=10000' '--init_from=/work/prune/shared/sgd/last.safetensors' '--threads=1' '--output_dir=/work/prune/shared/psgd_zero_lambda500_holdout' '--resume=auto'
# sgd_continued
bazel run //experiments:train -- '--epochs=8' '--schedule=multistep' '--lr=0.01' '--milestones=6' '--weight_decay=1e-4' '--momentum=0.9' '--batch_size=128' '--seed=1' '--init_from=/work/prune/shared/sgd/last.safetensors' '--threads=1' '--output_dir=/work/prune/shared/sgd_continued' '--resume=auto'
# psgd_zero_lambda50
bazel run //experiments:train -- '--epochs=8' '--schedule=multistep' '--lr=0.01' '--milestones=6' '--weight_decay=1e-4' '--momentum=0.9' '--batch_size=128' '--seed=1' '--optimizer=psgd' '--psg_target=zero' '--psg_lambda=50' '--init_from=/work/prune/shared/sgd/last.safetensors' '--threads=1' '--output_dir=/work/prune/shared/psgd_zero_lambda50' '--resume=auto'
# psgd_zero_lambda150
bazel run //experiments:train -- '--epochs=8' '--schedule=multistep' '--lr=0.01' '--milestones=6' '--weight_decay=1e-4' '--momentum=0.9' '--batch_size=128' '--seed=1' '--optimizer=psgd' '--psg_target=zero' '--psg_lambda=150' '--init_from=/work/prune/shared/sgd/last.safetensors' '--threads=1' '--output_dir=/work/prune/shared/psgd_zero_lambda150' '--resume=auto'
# psgd_zero_lambda500
bazel run //experiments:train -- '--epochs=8' '--schedule=multistep' '--lr=0.01' '--milestones=6' '--weight_decay=1e-4' '--momentum=0.9' '--batch_size=128' '--seed=1' '--optimizer=psgd' '--psg_target=zero' '--psg_lambda=500' '--init_from=/work/prune/shared/sgd/last.safetensors' '--threads=1' '--output_dir=/work/prune/shared/psgd_zero_lambda500' '--resume=auto'
