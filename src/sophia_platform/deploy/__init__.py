"""Deploy an environment with the one Helm chart: values, helm driver, preflight, records."""
