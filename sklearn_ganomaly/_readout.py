"""How ``GANomalyDetector`` turns fitted networks into scores.

:class:`ScoringMixin` runs the generator batch by batch in evaluation mode
(memory stays at the input plus one batch), reads the latent distances and
the codes, fits the read-out chosen by ``score_method`` (the latent distance,
or neighbour scores of the codes against the training codes, see
:mod:`sklearn_ganomaly._code_scores`) and its robust normalisation on the
training data, and computes the raw scores of new samples.
"""

import copy

import numpy as np
import torch

from ._code_scores import CodeScore, RobustScale, reference_subset, resolve_score_method

__all__ = ["PROGRESS_MIN_SAMPLES", "SCORES", "ScoringMixin"]

#: Rows scored per forward pass; large batches amortise per-call overhead.
_MIN_SCORING_BATCH = 256

#: At ``verbose=1``, scoring, encoding and reconstructing more samples than
#: this shows a progress bar (at ``verbose >= 2``, any number does).
PROGRESS_MIN_SAMPLES = 10_000

#: The neighbour components of each code-based score: (kind, n_neighbors);
#: None stands for the ``n_neighbors`` parameter.
_SCORE_COMPONENTS = {
    "latent_knn": [("knn", None)],
    "latent_lof": [("lof", 10)],
    "latent_knn_lof": [("knn", None), ("lof", 10)],
}
SCORES = ("latent", *_SCORE_COMPONENTS)


class ScoringMixin:
    """Scoring read-outs of :class:`~sklearn_ganomaly.GANomalyDetector`."""

    def _fit_score_normalisation(self, X, seed):
        """Fit the score's read-out and robust statistics on the training data, and the offset.

        Neighbour scores index the codes of (a subsample of) the training data
        and score them leave-one-out, so the statistics describe unseen normal
        data rather than points compared with themselves.
        """
        latent, codes = self._latent_and_codes(X)
        if not (np.all(np.isfinite(latent)) and np.all(np.isfinite(codes))):
            raise FloatingPointError(
                "Training produced a model whose latent codes are not finite; lower learning_rate."
            )
        if self.score_method_ == "latent":
            raw = latent
        else:
            keep = reference_subset(len(codes), seed)
            self.reference_codes_ = codes[keep].astype(np.float32)
            code_score = self._fit_code_score()
            # Rows outside a subsampled reference set are scored as new data;
            # reference rows keep their leave-one-out scores.
            raw = code_score.score(codes) if len(keep) < len(codes) else np.empty(len(codes))
            raw[keep] = code_score.training_scores_
        scale = RobustScale.fit(raw)
        self.score_center_, self.score_scale_ = scale.center, scale.scale
        self.train_anomaly_scores_ = scale(raw)
        contamination = 0.01 if self.contamination == "auto" else self.contamination
        self.offset_ = float(np.percentile(-self.train_anomaly_scores_, 100.0 * contamination))

    def _fit_code_score(self):
        """Index ``reference_codes_`` for the neighbour score (also run at load)."""
        components = [
            (kind, self.n_neighbors if k is None else k)
            for kind, k in _SCORE_COMPONENTS[self.score_method_]
        ]
        self._code_score = CodeScore(components).fit(self.reference_codes_)
        return self._code_score

    def _raw_score(self, X):
        """The chosen score before normalisation, higher = more abnormal."""
        if self.score_method_ == "latent":
            return self._latent_distance(X)
        _, codes = self._latent_and_codes(X)
        # A code that is not finite has no neighbours: its score is undefined
        # (NaN), which decision_function and predict report as an outlier.
        finite = np.isfinite(codes).all(axis=1)
        raw = np.full(len(codes), np.nan)
        if finite.any():
            raw[finite] = self._code_score.score(codes[finite])
        return raw

    def _resolve_score_method(self):
        """``score_method`` with ``'auto'`` resolved for the fitted input kind."""
        return resolve_score_method(self.score_method, self.input_transform_.is_image)

    def _scoring_network(self):
        """The generator in eval mode, and the dtype to feed it."""
        module = self.net_.module_
        if self.input_transform_.is_image:
            return module.eval(), torch.float32
        # Tiny tabular nets: float64 makes scores batch-independent to ~1e-12.
        return copy.deepcopy(module).double().eval(), torch.float64

    def _progress(self, total, desc):
        """A tqdm bar over ``total`` samples, or None when it would not show."""
        if not self.verbose or (self.verbose < 2 and total <= PROGRESS_MIN_SAMPLES):
            return None
        from tqdm.auto import tqdm

        return tqdm(total=total, desc=desc, unit="sample", leave=False)

    def _map_batches(self, X, out, fn, desc="Scoring"):
        """Fill ``out[rows] = fn(x_hat, z, z_hat)`` batch by batch; return ``out``.

        Writing into one preallocated array keeps scoring memory at the input
        plus O(batch): collecting small per-batch results instead pins heap
        pages between the large temporaries and makes memory grow with n.
        """
        module, dtype = self._scoring_network()
        device = next(module.parameters()).device
        channels_last = self._use_channels_last()
        step = max(self.batch_size, _MIN_SCORING_BATCH)
        bar = self._progress(len(X), desc)
        with torch.inference_mode():
            for start in range(0, len(X), step):
                x = self.input_transform_.to_network(
                    X[start : start + step], device, dtype, channels_last=channels_last
                )
                out[start : start + len(x)] = fn(*module(x))
                if bar is not None:
                    bar.update(len(x))
        if bar is not None:
            bar.close()
        return out

    def _latent_distance(self, X):
        def distance(x_hat, z, z_hat):
            return torch.mean((z - z_hat) ** 2, dim=1).to("cpu", torch.float64).numpy()

        return self._map_batches(X, np.empty(len(X)), distance)

    def _latent_and_codes(self, X):
        """Latent distances and codes in one pass over ``X``."""

        def both(x_hat, z, z_hat):
            distance = torch.mean((z - z_hat) ** 2, dim=1, keepdim=True)
            return torch.cat([distance, z], dim=1).to("cpu", torch.float64).numpy()

        out = self._map_batches(X, np.empty((len(X), 1 + self.latent_dim_)), both)
        return out[:, 0], out[:, 1:]

    def _codes(self, X):
        return self._latent_and_codes(X)[1]
