"""kl_div and cosine_similarity: composites of table ops, as PyTorch composes them (their
functions are in :mod:`gradcli.autograd.nn_similarity`)."""

from __future__ import annotations

from .core import prose, register

register("kl_div", function="nn_similarity:kl_div",
         params="input, target, size_average: any = None, reduce: any = None, "
                "reduction: str{none|mean|sum|batchmean|elementwise_mean} = 'mean', "
                "log_target: bool = False",
         group="losses", api="F",
         records=("XlogyBackward0", "MulBackward0", "SubBackward0", "ExpBackward0",
                  "MeanBackward0", "SumBackward0", "DivBackward0"),
         derivative=(prose("-target/N (N: the batch size for batchmean)"),
                     prose("log(target) + 1 - input, /N")), grows="broadcast")
register("cosine_similarity", function="nn_similarity:cosine_similarity",
         params="x1, x2, dim: int = 1, eps: number = 1e-08", group="losses", api="torch F",
         records=("SumBackward1", "MulBackward0", "DivBackward0", "CloneBackward0",
                  "LinalgVectorNormBackward0", "ExpandBackward0"),
         derivative=(prose("x2/(|x1||x2|) - cos * x1/|x1|^2"),
                     prose("x1/(|x1||x2|) - cos * x2/|x2|^2")), grows="broadcast")
