"""Binary decision trees re-laid as complete trees, scored a level at a time with numpy.

scikit-learn fits the trees (an isolation forest, a gradient-boosted classifier); this module
keeps only their splits and node values, as plain arrays that are stored as JSON numbers. A
leaf above the bottom level is pushed down as a chain of "always go left" splits (threshold
+inf), so every tree has the same depth and node `i` has its children at `2i+1` and `2i+2`.
A batch of N readings through T trees of depth D is then D rounds of gathers on N x T arrays.

>>> import numpy as np
>>> from sklearn.tree import DecisionTreeRegressor
>>> x = np.array([[0.0], [1.0], [2.0], [3.0]])
>>> tree = DecisionTreeRegressor(max_depth=2, random_state=0).fit(x, [0.0, 0.0, 1.0, 5.0]).tree_
>>> value = lambda t, n, d: t.value[n, 0, 0]
>>> laid = CompleteTrees.from_sklearn([tree], [np.array([0])], leaf=value)
>>> laid.leaf_values(x).ravel().tolist()
[0.0, 0.0, 1.0, 5.0]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from firewatch.models.scaling import Matrix, floats

Ints = npt.NDArray[np.int64]
LeafValue = Callable[[Any, int, int], float]
"""(sklearn tree, node, depth) -> the value a leaf stands for."""


@dataclass(frozen=True, slots=True)
class CompleteTrees:
    feature: Ints  # T x (2^D - 1)
    threshold: Matrix  # T x (2^D - 1), +inf where the way is always left
    node_value: Matrix  # T x (2^D - 1): each split node's own value (for explanations)
    leaf: Matrix  # T x 2^D

    @property
    def depth(self) -> int:
        return int(np.log2(self.leaf.shape[1]))

    @property
    def trees(self) -> int:
        return int(self.leaf.shape[0])

    @classmethod
    def from_sklearn(
        cls, trees: Sequence[Any], used: Sequence[Ints], leaf: LeafValue,
        node: LeafValue | None = None,
    ) -> CompleteTrees:  # fmt: skip
        """From sklearn `Tree` objects; `used[i]` maps tree i's feature numbers to ours."""
        depth = max(1, *(int(t.max_depth) for t in trees))
        internal = 2**depth - 1
        feature = np.zeros((len(trees), internal), dtype=np.int64)
        threshold = np.full((len(trees), internal), np.inf)
        node_value = np.zeros((len(trees), internal))
        leaves = np.zeros((len(trees), 2**depth))
        for i, tree in enumerate(trees):
            stack = [(0, 0, 0)]  # (sklearn node, complete position, depth)
            while stack:
                n, pos, level = stack.pop()
                left, right = int(tree.children_left[n]), int(tree.children_right[n])
                if left == -1:
                    first, span = pos, 1
                    for _ in range(depth - level):
                        first, span = 2 * first + 1, span * 2
                    start = first - internal
                    leaves[i, start : start + span] = leaf(tree, n, level)
                    # the pushed-down chain keeps the leaf's value for explanations
                    p = pos
                    while p < internal:
                        node_value[i, p] = node(tree, n, level) if node else 0.0
                        p = 2 * p + 1
                    continue
                feature[i, pos] = int(used[i][int(tree.feature[n])])
                threshold[i, pos] = float(tree.threshold[n])
                node_value[i, pos] = node(tree, n, level) if node else 0.0
                stack.append((left, 2 * pos + 1, level + 1))
                stack.append((right, 2 * pos + 2, level + 1))
        return cls(feature, threshold, node_value, leaves)

    def positions(self, x: Matrix) -> Ints:
        """Each row's path end as a leaf number per tree (N x T)."""
        trees, internal = self.feature.shape
        rows = np.arange(len(x))[:, None]
        offsets = (np.arange(trees) * internal)[None, :]
        feature, threshold = self.feature.ravel(), self.threshold.ravel()
        pos = np.zeros((len(x), trees), dtype=np.int64)
        for _ in range(self.depth):
            flat = offsets + pos
            pos = 2 * pos + 1 + (x[rows, feature[flat]] > threshold[flat])
        return np.asarray(pos - internal, dtype=np.int64)

    def leaf_values(self, x: Matrix) -> Matrix:
        """N x T: the value of the leaf each row reaches in each tree."""
        leaf = self.positions(x) + (np.arange(self.trees) * self.leaf.shape[1])[None, :]
        return np.asarray(self.leaf.ravel()[leaf], dtype=np.float64)

    def path_contributions(self, row: Sequence[float], names: int) -> Matrix:
        """Per feature, the change of value along one row's paths, summed over the trees."""
        out = np.zeros(names)
        for t in range(self.trees):
            pos, value = 0, self.node_value[t, 0]
            for _ in range(self.depth):
                f, thr = int(self.feature[t, pos]), self.threshold[t, pos]
                pos = 2 * pos + 1 + int(row[f] > thr)
                nxt = (self.node_value[t, pos] if pos < self.feature.shape[1]
                       else self.leaf[t, pos - self.feature.shape[1]])  # fmt: skip
                if np.isfinite(thr):
                    out[f] += nxt - value
                value = nxt
        return out

    def to_params(self) -> dict[str, Any]:
        return {
            "feature": self.feature.tolist(),
            "threshold": [
                [v if np.isfinite(v) else None for v in r] for r in self.threshold.tolist()
            ],
            "node_value": self.node_value.tolist(),
            "leaf": self.leaf.tolist(),
        }

    @classmethod
    def from_params(cls, params: dict[str, Any], features: int) -> CompleteTrees:
        feature = np.array(params["feature"], dtype=np.int64)
        threshold = np.array(
            [[np.inf if v is None else float(v) for v in r] for r in params["threshold"]]
        )
        node_value = np.array([floats(r, "tree node values") for r in params["node_value"]])
        leaf = np.array([floats(r, "tree leaves") for r in params["leaf"]])
        if feature.ndim != 2 or feature.shape[0] == 0:
            raise ValueError("trees: expected a non-empty table of split features")
        trees, internal = feature.shape
        if threshold.shape != feature.shape or node_value.shape != feature.shape:
            raise ValueError("trees: split arrays do not have the same shape")
        if leaf.shape != (trees, internal + 1) or (internal + 1) & internal:
            raise ValueError("trees: leaves do not fill the bottom of complete trees")
        if feature.min() < 0 or feature.max() >= features:
            raise ValueError("trees: a split names a feature the model does not have")
        return cls(feature, threshold, node_value, leaf)
