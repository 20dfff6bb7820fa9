"""The registry of score methods: what each ``score_method`` reads and how.

A score method is one component, or a sum of components, each read from the
generator's outputs for a sample: the paper's latent distance
``mean((z - z_hat) ** 2)``, or a neighbour score of the code ``z`` against
the codes of the training data (the distance to the k-th nearest one, or the
local outlier factor). Several components are turned into robust z-scores
with their own training statistics before the sum, so that a distance and a
density ratio count alike.

Everything that needs to know the score methods reads them here: the
estimator (its ``score_method`` parameter and ``'auto'``), the scoring graph,
the model-file schema, ONNX export, attribution maps, the command line and
the benchmark. Adding a read-out is one entry below, plus its maths in
:mod:`sklearn_ganomaly._scoring_graph` if it needs a new component kind.
"""

from dataclasses import dataclass

__all__ = [
    "COMPONENT_KINDS",
    "SCORE_METHODS",
    "Component",
    "ScoreMethod",
    "resolve_score_method",
]

#: The component kinds the scoring graph computes.
COMPONENT_KINDS = ("latent", "knn", "lof")


@dataclass(frozen=True)
class Component:
    """One part of a score.

    Attributes
    ----------
    kind : {'latent', 'knn', 'lof'}
        ``'latent'``: the latent distance ``mean((z - z_hat) ** 2)``.
        ``'knn'``: the distance of ``z`` to its k-th nearest reference code.
        ``'lof'``: the local outlier factor of ``z`` among the reference codes.
    metric : {'cosine', 'euclidean'} or None
        Distance between codes (neighbour kinds only).
    n_neighbors : int or None
        k; None takes the estimator's ``n_neighbors`` parameter.
    """

    kind: str
    metric: str | None = None
    n_neighbors: int | None = None


@dataclass(frozen=True)
class ScoreMethod:
    """A ``score_method``: its components and what the rest of the package needs to know.

    Attributes
    ----------
    name : str
        The ``score_method`` value.
    components : tuple of Component
        Summed as robust z-scores.
    summary : str
        One line for help texts.
    attribution : str
        What an attribution map of this score differentiates, for captions.
    exportable : bool
        Whether :meth:`GANomalyDetector.export_onnx` writes it (every method
        the scoring graph computes is).
    """

    name: str
    components: tuple[Component, ...]
    summary: str
    attribution: str
    exportable: bool = True

    @property
    def needs_references(self):
        """Whether the score compares codes with stored training codes."""
        return any(c.kind != "latent" for c in self.components)

    @property
    def min_latent_dim(self):
        """Smallest code size the score can read (a plain cosine needs two numbers)."""
        return 2 if any(c.metric == "cosine" for c in self.components) else 1

    def resolved_components(self, n_neighbors):
        """The components with the estimator's ``n_neighbors`` filled in."""
        return tuple(
            Component(c.kind, c.metric, n_neighbors if c.n_neighbors is None else c.n_neighbors)
            if c.kind != "latent"
            else c
            for c in self.components
        )


_LATENT = Component("latent")
# The anchored cosine compares codes by their angle and sees their length
# (see _neighbours): a sample mapped far out along the direction of normal
# codes is not normal.
_KNN_COSINE = Component("knn", "anchored_cosine")
_LOF_COSINE = Component("lof", "anchored_cosine", 10)
_KNN_EUCLIDEAN = Component("knn", "euclidean")
_LOF_EUCLIDEAN = Component("lof", "euclidean", 10)

SCORE_METHODS = {
    method.name: method
    for method in (
        ScoreMethod(
            "latent",
            (_LATENT,),
            "the paper's latent distance mean((z - z_hat)**2)",
            "the latent distance mean((z - z_hat)**2)",
        ),
        ScoreMethod(
            "latent_knn",
            (_KNN_COSINE,),
            "anchored cosine distance of the code z to its n_neighbors-th nearest training code",
            "the anchored cosine distance of the code to its n_neighbors-th nearest training code",
        ),
        ScoreMethod(
            "latent_lof",
            (_LOF_COSINE,),
            "local outlier factor of the code z among the training codes (anchored cosine, "
            "10 neighbours)",
            "the local outlier factor of the code among the training codes",
        ),
        ScoreMethod(
            "latent_knn_lof",
            (_KNN_COSINE, _LOF_COSINE),
            "sum of the robust z-scores of latent_knn and latent_lof",
            "the sum of the code's nearest-code distance and local outlier factor, as z-scores",
        ),
        ScoreMethod(
            "latent_knn_euclidean",
            (_KNN_EUCLIDEAN,),
            "Euclidean distance of the code z to its n_neighbors-th nearest training code",
            "the Euclidean distance of the code to its n_neighbors-th nearest training code",
        ),
        ScoreMethod(
            "latent_lof_euclidean",
            (_LOF_EUCLIDEAN,),
            "local outlier factor of the code z among the training codes (Euclidean, "
            "10 neighbours)",
            "the local outlier factor of the code among the training codes",
        ),
        ScoreMethod(
            "latent_knn_lof_euclidean",
            (_KNN_EUCLIDEAN, _LOF_EUCLIDEAN),
            "sum of the robust z-scores of latent_knn_euclidean and latent_lof_euclidean",
            "the sum of the code's nearest-code distance and local outlier factor, as z-scores",
        ),
    )
}


def resolve_score_method(score_method, is_image):
    """The :class:`ScoreMethod` for a ``score_method`` value, with ``'auto'`` resolved.

    ``'auto'`` reads the codes' neighbours with the anchored cosine for
    images and with the Euclidean distance for tables (see the
    documentation's development study for why each).
    """
    if score_method == "auto":
        score_method = "latent_knn_lof" if is_image else "latent_knn_lof_euclidean"
    return SCORE_METHODS[score_method]
