# sgd
bazel run //experiments:train -- '--epochs=20' '--schedule=onecycle' '--lr=0.1' '--nesterov' '--weight_decay=5e-4' '--momentum=0.9' '--batch_size=128' '--seed=1' '--threads=1' '--output_dir=/work/short/shared/sgd' '--resume=auto'
# psgd_w4_lambda150
bazel run //experiments:train -- '--epochs=8' '--schedule=multistep' '--lr=0.01' '--milestones=6' '--weight_decay=1e-4' '--momentum=0.9' '--batch_size=128' '--seed=1' '--optimizer=psgd' '--psg_target=grid' '--psg_bits=4' '--psg_lambda=150' '--psg_method=sgd' '--init_from=/work/short/shared/sgd/last.safetensors' '--threads=1' '--output_dir=/work/short/shared/psgd_w4_lambda150' '--resume=auto'
# sgd_continued
bazel run //experiments:train -- '--epochs=8' '--schedule=multistep' '--lr=0.01' '--milestones=6' '--weight_decay=1e-4' '--momentum=0.9' '--batch_size=128' '--seed=1' '--init_from=/work/short/shared/sgd/last.safetensors' '--threads=1' '--output_dir=/work/short/shared/sgd_continued' '--resume=auto'
