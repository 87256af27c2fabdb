"""s3forensics: watch over S3 static sites, investigate suspicious access, respond.

Data flows one way: sources -> engine -> queries/detections -> findings -> notebooks.
Setup checks and response actions sit beside it and talk to AWS through boto3 alone.
Nothing here talks to AWS, opens a file or starts a server at import time.
"""

__version__ = "0.1.0"
