"""Logger and metrics, one instance each per process, configured by the POWERTOOLS_* environment.

No Powertools Tracer: creating one imports the X-Ray SDK (~500 ms of cold start). `Tracing: Active`
in the template still gives every invocation its X-Ray segment (docs/decisions/0005-observability.md).
"""

from aws_lambda_powertools import Logger, Metrics

logger = Logger()
metrics = Metrics()
