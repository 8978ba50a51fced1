# 2026-12-06T04:12:53Z psgd_zero_lambda100_holdout
# 2026-12-06T04:12:53Z psgd_zero_lambda50_holdout
traintrain --epochs=68 --schedule=multistep --lr=0.01 --milestones=40 --weight_decay=0.0001 --momentum=0.9 --batch_size=128 --seed=1 --optimizer=psgd --psg_target=zero --psg_lambda=100 --holdout_images=10000 --init_from=/work/paper/released/ResNet82.safetensors --threads=1 --precision=bf16 --output_dir=/work/paper/shared/psgd_zero_lambda100_holdout --resume=auto
 --epochs=68 --schedule=multistep --lr=0.01 --milestones=40 --weight_decay=0.0001 --momentum=0.9 --batch_size=128 --seed=1 --optimizer=psgd --psg_target=zero --psg_lambda=50 --holdout_images=10000 --init_from=/work/paper/released/ResNet82.safetensors --threads=1 --precision=bf16 --output_dir=/work/paper/shared/psgd_zero_lambda50_holdout --resume=auto
# 2026-12-06T04:13:55Z psgd_zero_lambda100_holdout
train --model=resnet32 --dataset=cifar100 --epochs=68 --schedule=multistep --lr=0.01 --milestones=40 --weight_decay=0.0001 --momentum=0.9 --batch_size=128 --seed=1 --optimizer=psgd --psg_target=zero --psg_lambda=100 --holdout_images=10000 --init_from=/work/paper/released/ResNet82.safetensors --threads=1 --precision=bf16 --output_dir=/work/paper/shared/psgd_zero_lambda100_holdout --resume=auto
# 2026-12-06T04:13:55Z psgd_zero_lambda50_holdout
train --model=resnet32 --dataset=cifar100 --epochs=68 --schedule=multistep --lr=0.01 --milestones=40 --weight_decay=0.0001 --momentum=0.9 --batch_size=128 --seed=1 --optimizer=psgd --psg_target=zero --psg_lambda=50 --holdout_images=10000 --init_from=/work/paper/released/ResNet82.safetensors --threads=1 --precision=bf16 --output_dir=/work/paper/shared/psgd_zero_lambda50_holdout --resume=auto
# 2026-12-06T09:27Z psgd_zero_lambda200_holdout (second session, fresh machine)
train --model=resnet32 --dataset=cifar100 --epochs=68 --schedule=multistep --lr=0.01 --milestones=40 --weight_decay=0.0001 --momentum=0.9 --batch_size=128 --seed=1 --optimizer=psgd --psg_target=zero --psg_lambda=200 --holdout_images=10000 --init_from=/work/paper/released/ResNet82.safetensors --threads=1 --precision=bf16 --output_dir=/work/paper/shared/psgd_zero_lambda200_holdout --resume=auto
# 2026-12-06T09:27Z psgd_zero_lambda400_holdout (second session, fresh machine)
train --model=resnet32 --dataset=cifar100 --epochs=68 --schedule=multistep --lr=0.01 --milestones=40 --weight_decay=0.0001 --momentum=0.9 --batch_size=128 --seed=1 --optimizer=psgd --psg_target=zero --psg_lambda=400 --holdout_images=10000 --init_from=/work/paper/released/ResNet82.safetensors --threads=1 --precision=bf16 --output_dir=/work/paper/shared/psgd_zero_lambda400_holdout --resume=auto
# held-out sweeps (what //experiments:lambda_search runs per candidate)
prune_sweep --model=resnet32 --dataset=cifar100 --threads=1 --scope=global --holdout_images=10000 \
    --checkpoint=<stage>/last.safetensors --sparsity=0.5,0.7,0.8,0.9 --output_dir=<sweep>
