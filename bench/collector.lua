-- collector.lua: wrk script for admeter's collector benchmark (bench/collector.sh).
--
--   wrk -t2 -c64 -d20s -s bench/collector.lua http://127.0.0.1:8080 -- CAMPAIGN PLACEMENT [DEVICES]
--
-- Every request is an impression monitoring URL in the Miaozhen form an
-- Android SDK sends (26 parameters, ~470 bytes): a random device out of
-- DEVICES (default 100000; env BENCH_DEVICES), its raw OAID in m11= always
-- and its IMEI md5 in m2= for one device in ten, the relayed client IP in ns=,
-- mt= the current time, and a fresh request id (tr), impression id (vf) and
-- signature (mf) each time. The campaign and placement come from the script
-- arguments or from BENCH_K and BENCH_P.
--
-- The devices are derived with the same 32-bit xorshift arithmetic as
-- bench/loadgen/device.go, so both tools send the same population; keep the
-- two in step. All identifiers are synthetic.
--
-- done() prints one machine-readable line:
--   WRK_RESULT requests=… duration_s=… rps=… p50_ms=… p90_ms=… p99_ms=… max_ms=… non2xx=… errors=…

local bit = require("bit")

local k, p = os.getenv("BENCH_K"), os.getenv("BENCH_P")
local ndevices = tonumber(os.getenv("BENCH_DEVICES") or "") or 100000

local ip_prefixes = {
  "36.110", "113.108", "117.136", "58.246", "222.73", "183.14", "101.86", "120.229",
  "223.104", "112.96", "125.118", "59.172", "218.30", "111.19", "221.6", "60.12",
}
local models = {
  { "V2145A", "12", "SP1A.210812.003" },
  { "PGEM10", "13", "TP1A.220905.001" },
  { "M2012K11AC", "12", "SKQ1.211006.001" },
  { "ELS-AN00", "10", "HUAWEIELS-AN00" },
  { "SM-G9910", "13", "TP1A.220624.014" },
  { "22081212C", "13", "TKQ1.220829.002" },
  { "NOH-AL00", "10", "HUAWEINOH-AL00" },
  { "RMX3370", "12", "RKQ1.211119.001" },
}

local function hex(x, n) return bit.tohex(x, n or 8) end
-- u31 is the low 31 bits, a non-negative number for modulo (LuaJIT's bit
-- results are signed 32-bit).
local function u31(x) return bit.band(x, 0x7fffffff) end

local function xorshift32(x)
  x = bit.bxor(x, bit.lshift(x, 13))
  x = bit.bxor(x, bit.rshift(x, 17))
  x = bit.bxor(x, bit.lshift(x, 5))
  return x
end

-- device returns the identifiers of device d (1-based), as loadgen's deviceOf.
local function device(d)
  local w = {}
  local x = bit.bxor(d, 0x9e3779b9)
  if x == 0 then x = 1 end
  for i = 0, 8 do
    x = xorshift32(x)
    w[i] = x
  end
  local m = models[1 + u31(w[3]) % #models]
  local dev = {
    oaid = hex(w[0]) .. "-" .. hex(bit.rshift(w[1], 16), 4) .. "-" .. hex(w[1], 4) .. "-" ..
        hex(bit.rshift(w[2], 16), 4) .. "-" .. hex(w[2], 4) .. hex(w[3]),
    ip = ip_prefixes[1 + u31(w[4]) % #ip_prefixes] .. "." ..
        bit.band(bit.rshift(w[5], 8), 0xff) .. "." .. (1 + bit.band(w[5], 0xff) % 254),
    model = m[1],
    osv = m[2],
    ua = "Dalvik/2.1.0 (Linux; U; Android " .. m[2] .. "; " .. m[1] .. " Build/" .. m[3] .. ")",
    imei = "",
  }
  if d % 10 == 0 then
    dev.imei = hex(w[5]) .. hex(w[6]) .. hex(w[7]) .. hex(w[8])
  end
  return dev
end

local counter = 1

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  if args[1] and args[1] ~= "" then k = args[1] end
  if args[2] and args[2] ~= "" then p = args[2] end
  if args[3] then ndevices = tonumber(args[3]) or ndevices end
  if not k or not p then
    error("collector.lua: pass the campaign and placement: wrk ... -- CAMPAIGN PLACEMENT (or set BENCH_K and BENCH_P)")
  end
  math.randomseed(os.time() * 1000 + (id or 0))
end

local headers = {}

function request()
  local dev = device(math.random(1, ndevices))
  local now = os.time()
  headers["User-Agent"] = dev.ua
  local path = "/x/k=" .. k .. "&p=" .. p ..
      "&mo=0&ns=" .. dev.ip ..
      "&m0=&m1a=&m2=" .. dev.imei ..
      "&m4=&m5=&m6=&m6a=&m11=" .. dev.oaid ..
      "&m11a=&m14=&tr=" .. now .. string.format("%03d", math.random(0, 999)) .. "q" .. math.random(0, 2147483647) ..
      "&mt=" .. now ..
      "&mn=%E4%BB%8A%E6%97%A5%E5%A4%B4%E6%9D%A1&mp=com.ss.android.article.news" ..
      "&md=" .. dev.model .. "&me=" .. dev.osv ..
      "&mw=1&mh=1080x2400&mv=V2.2.5&br=1" ..
      "&vf=" .. hex(math.random(0, 2147483647)) .. hex(math.random(0, 2147483647)) ..
      "&mf=" .. hex(math.random(0, 2147483647)) .. hex(math.random(0, 2147483647)) ..
      hex(math.random(0, 2147483647)) .. hex(math.random(0, 2147483647))
  return wrk.format("GET", path, headers)
end

function done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "WRK_RESULT requests=%d duration_s=%.3f rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f non2xx=%d errors=%d\n",
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, e.status, e.connect + e.read + e.write + e.timeout))
end
