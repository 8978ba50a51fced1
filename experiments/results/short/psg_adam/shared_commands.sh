# adam
bazel run //experiments:train -- '--epochs=20' '--schedule=onecycle' '--lr=0.1' '--nesterov' '--weight_decay=5e-4' '--momentum=0.9' '--batch_size=128' '--seed=1' '--optimizer=adam' '--lr=0.001' '--threads=2' '--output_dir=/work/adam/shared/adam' '--resume=auto'
# adam
bazel run //experiments:train -- '--epochs=20' '--schedule=onecycle' '--lr=0.1' '--nesterov' '--weight_decay=5e-4' '--momentum=0.9' '--batch_size=128' '--seed=1' '--optimizer=adam' '--lr=0.001' '--threads=1' '--output_dir=/work/adam/shared/adam' '--resume=auto'
# psgd_w4_lambda150_adam
bazel run //experiments:train -- '--epochs=8' '--schedule=multistep' '--lr=0.01' '--milestones=6' '--weight_decay=1e-4' '--momentum=0.9' '--batch_size=128' '--seed=1' '--optimizer=psgd' '--psg_target=grid' '--psg_bits=4' '--psg_lambda=150' '--psg_method=adam' '--lr=0.0001' '--init_optimizer_state' '--init_from=/work/adam/shared/adam/last.safetensors' '--threads=1' '--output_dir=/work/adam/shared/psgd_w4_lambda150_adam' '--resume=auto'
# adam_continued_lr0.00015
bazel run //experiments:train -- '--epochs=8' '--schedule=multistep' '--lr=0.01' '--milestones=6' '--weight_decay=1e-4' '--momentum=0.9' '--batch_size=128' '--seed=1' '--optimizer=adam' '--lr=0.00015' '--init_from=/work/adam/shared/adam/last.safetensors' '--init_optimizer_state' '--threads=1' '--output_dir=/work/adam/shared/adam_continued_lr0.00015' '--resume=auto'
