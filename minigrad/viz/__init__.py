"""Pictures and step-by-step backprop: Graphviz drawings, an HTML stepper, a terminal stepper.

>>> from minigrad import Value
>>> from minigrad.viz import draw, backprop_steps
>>> x, w = Value(2.0, "x"), Value(-3.0, "w")
>>> y = (x * w).tanh()
>>> dot = draw(y)                       # a graphviz.Digraph: dot.source, render(dot, "y.svg")
>>> [s.op or "leaf" for s in backprop_steps(y)]
['tanh', 'mul', 'leaf', 'leaf']
"""

from .draw import Drawing, GraphvizNotFound, draw, render, save_svg, summarize
from .html import backprop_page, save_backprop_html
from .names import node_names, walk
from .steps import Accumulated, Step, backprop_steps
from .terminal import format_step, step_through
from .viewer import viewer_fragment

__all__ = ["Accumulated", "Drawing", "GraphvizNotFound", "Step", "backprop_page",
           "backprop_steps", "draw", "format_step", "node_names", "render",
           "save_backprop_html", "save_svg", "step_through", "summarize", "viewer_fragment",
           "walk"]
