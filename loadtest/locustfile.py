"""Generic locustfile: OpenAI chat/completions users against any OpenAI-compatible endpoint.

Use it by hand with locust's own user count and run time:

    LLMAZ_LOADTEST_PROFILE=profile.json \
      locust -f loadtest/locustfile.py --headless -u 4 -r 4 -t 60s --host http://127.0.0.1:8080

or, better, through `llmaz-serverless loadtest`, which picks a scenario from
loadtest/scenarios/, writes the profile, samples replicas and writes the report.
Without LLMAZ_LOADTEST_PROFILE the profile defaults apply and requests.csv is
written to the current directory.
"""

from llmaz_serverless.loadtest.users import OpenAIUser

__all__ = ["OpenAIUser"]
