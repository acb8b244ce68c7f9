"""A Starling training worker: a 64-32-10 MLP on the digits data, with PyTorch.

The same task as numpy_logreg.py (trainScriptBootFile: torch_mlp.py). Round 1 starts from weights
drawn with STARLING_SEED, so every worker starts from the same model.
"""

import torch
from torch import nn

import starling

CLASSES = 10


class MLP(nn.Module):
    def __init__(self, features, hidden=32, classes=CLASSES):
        super().__init__()
        self.dense0 = nn.Linear(features, hidden)
        self.dense1 = nn.Linear(hidden, classes)

    def forward(self, x):
        return self.dense1(torch.relu(self.dense0(x)))


def main():
    x, y = starling.dataset()  # numpy: x float32 (n, 64), y int64 (n,)
    params = starling.parameters()
    batch_size = int(params["batch_size"])
    learning_rate = float(params["learning_rate"])
    epochs = int(params["epochs"])
    mu = float(params.get("proximal_mu", 0.0))  # FedProx's proximal term; 0 for FedAvg
    seed = starling.context().seed
    inputs, labels = torch.from_numpy(x), torch.from_numpy(y)
    samples = len(labels)

    torch.manual_seed(seed)
    model = MLP(x.shape[1])  # the same initial weights on every worker
    shuffle = torch.Generator().manual_seed(seed)

    for rnd in starling.rounds():
        weights = rnd.global_weights()
        if weights is not None:
            model.load_state_dict({name: torch.from_numpy(array) for name, array in weights.items()})
        start = [parameter.detach().clone() for parameter in model.parameters()]
        optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)

        model.train()
        for _ in range(epochs):
            order = torch.randperm(samples, generator=shuffle)
            for first in range(0, samples, batch_size):
                batch = order[first:first + batch_size]
                optimizer.zero_grad()
                loss = nn.functional.cross_entropy(model(inputs[batch]), labels[batch])
                if mu > 0:
                    loss = loss + mu / 2 * sum(((p - p0) ** 2).sum() for p, p0 in zip(model.parameters(), start))
                loss.backward()
                optimizer.step()

        model.eval()
        with torch.no_grad():
            logits = model(inputs)
            metrics = {"loss": nn.functional.cross_entropy(logits, labels).item()}
            if rnd.validate:
                metrics["accuracy"] = (logits.argmax(dim=1) == labels).float().mean().item()
        rnd.submit(model.state_dict(), num_samples=samples, metrics=metrics)  # torch tensors: the Lib converts
        print(f"round {rnd.number}: " + ", ".join(f"{name} {value:.4f}" for name, value in metrics.items()))


if __name__ == "__main__":
    main()
