-- wrk script: the two Zendesk calls an issuance makes, against zendesk-sim
-- (keywarden benchmark anchor):
--   POST /api/v2/oauth/clients  {"client":{..., "identifier": unique}}
--   POST /api/v2/oauth/tokens   {"token":{"client_id": <from the answer>}}
-- A thread sends a token call whenever it has a client id from an earlier
-- answer, else a client call; so calls alternate and pairs = tokens made.
--   wrk ... -s bench/zd_issue.lua URL -- BOT_TOKEN [close]
-- With "close" every call asks for "Connection: close", so each one opens
-- a new TCP connection, as keywarden's libcurl calls did before each
-- thread kept its handle (and connections) between calls.
local threads = {}
local n = 0

function setup(thread)
   n = n + 1
   thread:set("tid", n)
   table.insert(threads, thread)
end

local auth, close, prefix, seq, pending
created_clients, created_tokens = 0, 0

function init(args)
   auth = "Bearer " .. args[1]
   close = args[2] == "close"
   prefix = string.format("bench-%d-%d-", tid, math.random(1, 1000000000))
   seq, pending = 0, {}
end

function request()
   local hdrs = { ["Authorization"] = auth,
                  ["Content-Type"] = "application/json" }
   if close then
      hdrs["Connection"] = "close"
   end
   local cid = table.remove(pending)
   if cid then
      return wrk.format("POST", "/api/v2/oauth/tokens", hdrs,
         '{"token":{"client_id":' .. cid .. ',"scopes":["tickets:read"]}}')
   end
   seq = seq + 1
   return wrk.format("POST", "/api/v2/oauth/clients", hdrs,
      '{"client":{"name":"https://keywarden.example.com/requests/req_' ..
      prefix .. seq .. '","identifier":"keywarden-' .. prefix .. seq ..
      '","kind":"confidential","redirect_uri":[],"description":' ..
      '"keywarden req_0123456789 for rick@example.com, approved by ' ..
      'maria@example.com, pat@example.com"}}')
end

function response(status, headers, body)
   if status == 201 then
      local cid = string.match(body, '^{"client":{"id":(%d+)')
      if cid then
         created_clients = created_clients + 1
         table.insert(pending, cid)
      elseif string.find(body, '^{"token":') then
         created_tokens = created_tokens + 1
      end
   end
end

function done(summary, latency, requests)
   local c, t = 0, 0
   for _, th in ipairs(threads) do
      c = c + (th:get("created_clients") or 0)
      t = t + (th:get("created_tokens") or 0)
   end
   io.write(string.format("ZD_PAIRS clients=%d tokens=%d\n", c, t))
end
