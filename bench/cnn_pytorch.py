"""PyTorch peer of bench/cnn.ts: the same network (conv16-pool-conv32-pool-dense10 on 32x32x3), the
same batch and optimizer (Adam, lr 1e-3), synthetic inputs. Prints one JSON line:
{"torch": version, "threads": n, "train": [images/s per timed epoch], "infer": [...],
"train_cpu"/"infer_cpu": [images per CPU-second of the process]} (the CPU figures barely move with
the machine's load, the wall-clock ones do).

Usage: python3 bench/cnn_pytorch.py [--images 2048] [--batch 64] [--infer-batch 256] [--epochs 5]
       [--threads N]   (default: PyTorch's own default thread count)
"""
import argparse
import json
import time

import torch
import torch.nn as nn

p = argparse.ArgumentParser()
p.add_argument("--images", type=int, default=2048)
p.add_argument("--batch", type=int, default=64)
p.add_argument("--infer-batch", type=int, default=256)
p.add_argument("--epochs", type=int, default=5)
p.add_argument("--threads", type=int, default=0)
a = p.parse_args()
if a.threads > 0:
    torch.set_num_threads(a.threads)

torch.manual_seed(0)
net = nn.Sequential(
    nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(32 * 8 * 8, 10))
opt = torch.optim.Adam(net.parameters(), 1e-3)
n = a.images
x, y = torch.rand(n, 3, 32, 32), torch.randint(0, 10, (n,))
loss_fn = nn.CrossEntropyLoss()


def train_epoch():
    net.train()
    perm = torch.randperm(n)  # shuffled batches, as the tfjs trainer does
    for i in range(0, n, a.batch):
        idx = perm[i:i + a.batch]
        opt.zero_grad()
        loss = loss_fn(net(x[idx]), y[idx])
        loss.backward()
        opt.step()
    return float(loss)


def infer_pass():
    net.eval()
    with torch.no_grad():
        for i in range(0, n, a.infer_batch):
            torch.softmax(net(x[i:i + a.infer_batch]), 1)


def timed(f, cpu):
    t, c = time.perf_counter(), time.process_time()
    f()
    cpu.append(n / (time.process_time() - c))  # images per CPU-second, all threads of the process
    return n / (time.perf_counter() - t)


train_cpu, infer_cpu = [], []
train_epoch()  # warm-up
train = [timed(train_epoch, train_cpu) for _ in range(a.epochs)]
infer_pass()  # warm-up
infer = [timed(infer_pass, infer_cpu) for _ in range(a.epochs)]
print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "train": train, "infer": infer,
                  "train_cpu": train_cpu, "infer_cpu": infer_cpu}))
