"""``callbacks__<name>__<param>`` parameters, as skorch's nets take them.

skorch lets ``get_params``/``set_params`` reach into named callbacks, so that
``GridSearchCV`` can tune, say, ``callbacks__es__patience``. The estimator and
the PyOD adapter share that behaviour through :class:`CallbackParamsMixin`.
"""

__all__ = ["CallbackParamsMixin", "callback_name", "callback_params", "set_callback_params"]


def callback_name(entry):
    """The name skorch gives a ``callbacks`` entry: its own, or its class's."""
    if isinstance(entry, tuple):
        return entry[0]
    return entry.__name__ if isinstance(entry, type) else type(entry).__name__


def callback_params(callbacks):
    """``{'callbacks__<name>': callback, 'callbacks__<name>__<param>': value}``.

    What ``get_params(deep=True)`` lists for the callbacks, as skorch's nets do.
    """
    params: dict = {}
    if not isinstance(callbacks, (list, tuple)):
        return params  # an invalid value, which fit reports
    for entry in callbacks:
        if isinstance(entry, tuple) and (len(entry) != 2 or not isinstance(entry[0], str)):
            continue
        name = callback_name(entry)
        callback = entry[1] if isinstance(entry, tuple) else entry
        params[f"callbacks__{name}"] = callback
        if not isinstance(callback, type) and hasattr(callback, "get_params"):
            for key, value in callback.get_params().items():
                params[f"callbacks__{name}__{key}"] = value
    return params


def set_callback_params(callbacks, params):
    """A new ``callbacks`` list with ``callbacks__<name>[__<param>]`` values applied.

    ``callbacks__<name>__<param>=value`` sets a parameter of the callback of
    that name (a callback given as a class is instantiated with it);
    ``callbacks__<name>=callback`` replaces it, and ``None`` removes it.
    """
    entries = list(callbacks or ())
    names = [callback_name(entry) for entry in entries]
    nested: dict = {}
    for key, value in params.items():
        name, _, param = key[len("callbacks__") :].partition("__")
        if names.count(name) != 1:
            problem = "several callbacks are" if name in names else "no callback is"
            raise ValueError(
                f"Cannot set {key}: {problem} named {name!r} (the callbacks are named "
                f"{names}). Name a callback with a (name, callback) pair."
            )
        if param:
            nested.setdefault(names.index(name), {})[param] = value
        else:
            i = names.index(name)
            entries[i] = (name, value) if isinstance(entries[i], tuple) else value
    for i, values in nested.items():
        entry = entries[i]
        callback = entry[1] if isinstance(entry, tuple) else entry
        if isinstance(callback, type):
            callback = callback(**values)
        else:
            callback.set_params(**values)
        entries[i] = (entry[0], callback) if isinstance(entry, tuple) else callback
    return [e for e in entries if (e[1] if isinstance(e, tuple) else e) is not None]


class CallbackParamsMixin:
    """``get_params``/``set_params`` that reach into named callbacks, as skorch's do.

    ``get_params(deep=True)`` adds ``callbacks__<name>`` and
    ``callbacks__<name>__<param>`` for each callback, and ``set_params``
    takes them, so ``GridSearchCV`` can tune a callback's parameter.
    """

    def get_params(self, deep=True):
        """Parameters of the estimator; with ``deep``, also its named callbacks'.

        Parameters
        ----------
        deep : bool, default=True
            Also list ``callbacks__<name>`` and ``callbacks__<name>__<param>``
            for each callback, as skorch's nets do.

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        params = super().get_params(deep=deep)
        if deep:
            params.update(callback_params(params.get("callbacks")))
        return params

    def set_params(self, **params):
        """Set parameters, among them ``callbacks__<name>__<param>`` ones.

        Parameters
        ----------
        **params : dict
            Estimator parameters, and as in skorch ``callbacks__<name>__<param>``
            (a parameter of the callback named ``<name>``, or of class
            ``<name>`` when it was given without a name) or
            ``callbacks__<name>`` (a new callback for that name; None drops it).

        Returns
        -------
        self : estimator
            The estimator.
        """
        nested = {k: params.pop(k) for k in list(params) if k.startswith("callbacks__")}
        super().set_params(**params)
        if nested:
            self.callbacks = set_callback_params(self.callbacks, nested)
        return self
