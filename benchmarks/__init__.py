"""Benchmarks for minigrad against a hand-written numpy reference and peer engines.

Run ``python -m benchmarks`` (see ``benchmarks/README.md``). Every engine is timed in its
own worker process (``python -m benchmarks.worker WORKLOAD ENGINE DTYPE``), and every row
checks its gradients against a reference before it is timed.
"""
