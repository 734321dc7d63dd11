"""Request-arrival traces: read them (the project's CSV/JSONL format or the Azure LLM trace), transform
them (window, thin, speed-up, idle gaps) and make them from the gateway's access logs.

The load tests replay a trace (`loadtest --trace`) and the planner simulates one (`plan --trace`);
both read it through `read_trace` so they see the same arrivals.
"""
