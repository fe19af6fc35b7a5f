"""Argument checks shared by the library: each error names the argument,
the value received and what is allowed."""

import math
import numbers

import numpy as np


def check_int(name, value, minimum):
    """Returns `value` as an int if it is an integer >= `minimum`."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, numbers.Integral
    ):
        raise TypeError(
            f"Invalid value for argument `{name}`: expected an integer. "
            f"Received: {name}={value!r}"
        )
    if value < minimum:
        raise ValueError(
            f"Invalid value for argument `{name}`: expected an integer "
            f">= {minimum}. Received: {name}={value!r}"
        )
    return int(value)


def check_multiple(name, value, of_name, of):
    """Returns `value` if it is a multiple of `of` (the argument `of_name`; 0 is one)."""
    if value % of:
        raise ValueError(
            f"Invalid value for argument `{name}`: expected a multiple of {of_name}={of}. "
            f"Received: {name}={value}"
        )
    return value


def check_number(name, value, minimum, maximum=None, open_below=False):
    """Returns `value` as a float if it lies in [minimum, maximum].

    With `open_below`, `minimum` itself is not allowed.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, numbers.Real
    ):
        raise TypeError(
            f"Invalid value for argument `{name}`: expected a number. "
            f"Received: {name}={value!r}"
        )
    too_low = value <= minimum if open_below else value < minimum
    too_high = maximum is not None and value > maximum
    if not math.isfinite(value) or too_low or too_high:
        low = f"({minimum}" if open_below else f"[{minimum}"
        high = f"{maximum}]" if maximum is not None else "inf)"
        raise ValueError(
            f"Invalid value for argument `{name}`: expected a number in "
            f"{low}, {high}. Received: {name}={value!r}"
        )
    return float(value)


def check_bool(name, value):
    """Returns `value` as a bool if it is True or False."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(
            f"Invalid value for argument `{name}`: expected True or False. "
            f"Received: {name}={value!r}"
        )
    return bool(value)
