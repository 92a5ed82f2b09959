-- wrk script: POST /v1/requests with a bearer token (keywarden benchmark).
--   wrk ... -s bench/requests.lua URL -- TOKEN INSTANCE
-- Every request carries the same body; each one files a new request
-- (request + history + audit event committed in one transaction).
function init(args)
   local token, instance = args[1], args[2] or "bench"
   wrk.method = "POST"
   wrk.path = "/v1/requests"
   wrk.headers["Authorization"] = "Bearer " .. token
   wrk.headers["Content-Type"] = "application/json"
   wrk.body = '{"instance":"' .. instance .. '","kind":"api_token",' ..
      '"justification":"benchmark: nightly export of ticket metrics",' ..
      '"use_case":"reporting","scopes":["tickets:read"],' ..
      '"lifetime_days":30}'
end
