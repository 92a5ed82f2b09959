-- wrk script: POST one JSON body to the URL (keywarden benchmark).
--   wrk ... -s bench/post_json.lua URL -- 'BODY' ['Bearer TOKEN']
-- The broker section posts {} to /v1/credentials/{id}/access-token
-- (keywarden) and the client_credentials grant to /oauth/tokens
-- (zendesk-sim, the anchor).
local body, auth

function init(args)
   body = args[1] or "{}"
   auth = args[2]
end

function request()
   local hdrs = { ["Content-Type"] = "application/json" }
   if auth then
      hdrs["Authorization"] = auth
   end
   return wrk.format("POST", nil, hdrs, body)
end
