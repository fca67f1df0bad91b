-- tests/bench/serve_load.lua - the wrk script of tests/bench/serve_load.sh.
--
--   wrk ... -s serve_load.lua URL [-- PATH_TEMPLATE LO HI]
--
-- Without arguments every request is the URL's own. With a template, each
-- request's path is the template with "{seq}" replaced by a seq drawn
-- uniformly from LO..HI: 4,096 requests are formatted once per thread in
-- init() and sent in turn, so the client does no string work per request
-- (wrk's SCRIPTING advice) and stays as cheap as a plain URL run.
--
-- done() prints one line for the driver to parse, latencies in µs:
--   wrk-result REQUESTS DURATION_US BYTES CONNECT READ WRITE STATUS TIMEOUT P50 P90 P99
-- STATUS is wrk's count of answers with a status above 399.

local reqs = {}
local n, i = 0, 0
local threads = 0 -- counted in setup()'s own environment

function setup(thread)
	thread:set("id", threads)
	threads = threads + 1
end

function init(args)
	local tpl, lo, hi = args[1], tonumber(args[2]), tonumber(args[3])
	if tpl == nil then
		reqs[1] = wrk.format()
	else
		math.randomseed(os.time() * 1000 + (id or 0))
		for k = 1, 4096 do
			local seq = tostring(math.random(lo, hi))
			reqs[k] = wrk.format(nil, (tpl:gsub("{seq}", seq)))
		end
	end
	n = #reqs
end

function request()
	i = i % n + 1
	return reqs[i]
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format("wrk-result %d %d %d %d %d %d %d %d %d %d %d\n",
		summary.requests, summary.duration, summary.bytes,
		e.connect, e.read, e.write, e.status, e.timeout,
		latency:percentile(50), latency:percentile(90),
		latency:percentile(99)))
end
