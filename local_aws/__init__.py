"""In-process AWS for tests, the demo and benchmarks: moto plus a fake of the SSM execution APIs."""
