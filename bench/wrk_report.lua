-- wrk script for bench/loadtest.py: sends the headers a browser sends, prints one JSON line.
--   wrk -t2 -c16 -d10s -s bench/wrk_report.lua http://127.0.0.1:8000/
wrk.headers["Accept-Encoding"] = "gzip, deflate"
wrk.headers["Accept-Language"] = "en"

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, "connect_errors": %d, "read_errors": %d, ' ..
    '"write_errors": %d, "status_errors": %d, "timeouts": %d, "p50_us": %d, "p95_us": %d, ' ..
    '"p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
