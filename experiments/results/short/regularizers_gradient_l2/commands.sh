# gradient_l2_0.05
bazel run //experiments:train -- --epochs=8 --schedule=multistep --lr=0.01 --milestones=6 --weight_decay=1e-4 --momentum=0.9 --batch_size=128 --init_from=/work/prune/shared/sgd/last.safetensors --gradient_l2=0.05 --seed=1 --threads=1 --output_dir=/work/reg/run/gradient_l2_0.05 --resume=auto
# lipschitz_0.0003
bazel run //experiments:train -- --epochs=8 --schedule=multistep --lr=0.01 --milestones=6 --weight_decay=1e-4 --momentum=0.9 --batch_size=128 --init_from=/work/prune/shared/sgd/last.safetensors --lipschitz=0.0003 --seed=1 --threads=1 --output_dir=/work/reg/run/lipschitz_0.0003 --resume=auto
