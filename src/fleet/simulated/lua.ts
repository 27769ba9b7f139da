/**
 * Lua scripts of the simulated fleet. Every state change, and every read, is one script, so it is atomic across any
 * number of worker replicas and CLI processes.
 *
 * Time: each script reads the Redis server clock once (`TIME`, made monotonic with the `clock` key) and first
 * *materialises* what happened since the last script: pods whose containers started (`pending` zset, score = start ms)
 * become Running, and Ready when their node is ready, with the timeline entry stamped at the start time, not at the
 * time of the read. Node changes only happen inside scripts, and every script materialises before it changes
 * anything, so a node's state at a pending start time is its current state, and the timeline stays ordered.
 *
 * Common to every script (the header of each script lists only what it adds):
 *   KEYS[1] nodes       hash   node name → NodeInput JSON
 *   KEYS[2] pending     zset   "<ds> <pod>" → ms its containers start
 *   KEYS[3] timeline    stream pod transitions
 *   KEYS[4] clock       string highest ms seen
 *   KEYS[5] daemonsets  set    DaemonSets that have pods
 *   ARGV[1] base        "{<prefix>}:fleet"; pods/node-pods/idempotency keys are derived from it (see keys.ts)
 *   ARGV[2] timelineCap approximate MAXLEN of the timeline stream
 *
 * The per-DaemonSet, per-node and per-idempotency-key names are built here from ARGV[1] because they are only known
 * inside the script (which DaemonSets have pods on a node). They share the hash tag, so they are in the same Redis
 * Cluster slot as the declared keys.
 */

/** Number of KEYS common to every script. */
export const COMMON_KEY_COUNT = 5;

const PRELUDE = `
local nodesKey, pendingKey, timelineKey, clockKey, daemonSetsKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local base = ARGV[1]
local timelineCap = ARGV[2]

-- Mirrors fleetKeys() in keys.ts.
local function podsKey(ds) return base .. ':pods:' .. ds end
local function nodePodsKey(node) return base .. ':node-pods:' .. node end
local function idempotencyKey(key) return base .. ':idempotency:' .. key end

local function memberOf(ds, pod) return ds .. ' ' .. pod end

-- The nodes' version: changes with every node write (see nodesChanged), so a reader may keep the
-- nodes it parsed and skip them while the version holds, as an informer keeps its cache. The epoch
-- (the server time, in microseconds, of the fleet's first node write; scripts run one at a time)
-- makes a fleet wiped and made again never repeat an old version.
local function nodesChanged()
  local t = redis.call('TIME')
  redis.call('HSETNX', base .. ':meta', 'epoch', t[1] .. '.' .. t[2])
  redis.call('HINCRBY', base .. ':meta', 'nodesSeq', 1)
end
local function nodesVersion()
  local v = redis.call('HMGET', base .. ':meta', 'epoch', 'nodesSeq')
  return (v[1] or '') .. ':' .. (v[2] or '')
end
-- Each DaemonSet's pods' version (same idea as the nodes'): bumped once by every script that
-- changes any of its pods, so a reader may keep the pods it parsed while the version holds.
local podsBumped = {}
local function podsChanged(ds)
  if podsBumped[ds] then return end
  podsBumped[ds] = true
  redis.call('HINCRBY', base .. ':pods-versions', ds, 1)
end
local function podsVersion(ds)
  return (redis.call('HGET', base .. ':meta', 'epoch') or '') .. ':' ..
    (redis.call('HGET', base .. ':pods-versions', ds) or '0')
end
local function splitMember(member) return string.match(member, '^(%S+) (%S+)$') end
local function ms(n) return string.format('%d', n) end

-- Events are never stamped before this (the clock of the previous script): keeps stream ids increasing.
local floorTs = 0

local function readClock()
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  floorTs = tonumber(redis.call('GET', clockKey) or '0') or 0
  if now < floorTs then now = floorTs end
  redis.call('SET', clockKey, ms(now))
  return now
end

local function emit(ts, event, pod)
  if ts < floorTs then ts = floorTs end
  redis.call('XADD', timelineKey, 'MAXLEN', '~', timelineCap, ms(ts) .. '-*',
    'event', event, 'daemonSet', pod.daemonSet, 'node', pod.node, 'pod', pod.name, 'revision', pod.revision)
end

local function isNodeReady(name)
  local raw = redis.call('HGET', nodesKey, name)
  if not raw then return false end
  return cjson.decode(raw).ready ~= false
end

-- Containers of pending pods whose start time has come start now; their pod is Ready if the node is.
local function materialize(now)
  local due = redis.call('ZRANGEBYSCORE', pendingKey, '-inf', now, 'WITHSCORES')
  if #due == 0 then return end
  local nodeReady = {}
  for i = 1, #due, 2 do
    local ds, name = splitMember(due[i])
    local at = tonumber(due[i + 1])
    local key = podsKey(ds)
    local raw = redis.call('HGET', key, name)
    if raw then
      local pod = cjson.decode(raw)
      pod.phase = 'Running'
      local ready = nodeReady[pod.node]
      if ready == nil then
        ready = isNodeReady(pod.node)
        nodeReady[pod.node] = ready
      end
      if ready then
        pod.ready = true
        pod.readySince = at
        emit(at, 'ready', pod)
      end
      redis.call('HSET', key, name, cjson.encode(pod))
      podsChanged(ds)
    end
  end
  redis.call('ZREMRANGEBYSCORE', pendingKey, '-inf', now)
end

-- The node turned Ready or NotReady at now: its Running pods follow.
local function applyNodeReady(node, ready, now)
  local members = redis.call('SMEMBERS', nodePodsKey(node))
  table.sort(members)
  for _, member in ipairs(members) do
    local ds, name = splitMember(member)
    local key = podsKey(ds)
    local raw = redis.call('HGET', key, name)
    if raw then
      local pod = cjson.decode(raw)
      local changed = false
      if ready then
        if not pod.ready and pod.phase == 'Running' then
          pod.ready = true
          pod.readySince = now
          emit(now, 'ready', pod)
          changed = true
        end
      elseif pod.ready then
        pod.ready = false
        pod.readySince = nil
        emit(now, 'not-ready', pod)
        changed = true
      end
      if changed then
        redis.call('HSET', key, name, cjson.encode(pod))
        podsChanged(ds)
      end
    end
  end
end

-- Removes a pod at now; its idempotency record keeps its last state. \`pod\`: raw decoded, when the caller has it.
-- \`replacing\`: the caller adds a pod of the same DaemonSet next, so it stays in the DaemonSets set.
local function removePod(ds, name, raw, now, pod, replacing)
  pod = pod or cjson.decode(raw)
  local key = podsKey(ds)
  local member = memberOf(ds, name)
  redis.call('HDEL', key, name)
  podsChanged(ds)
  if not replacing and redis.call('EXISTS', key) == 0 then redis.call('SREM', daemonSetsKey, ds) end
  redis.call('SREM', nodePodsKey(pod.node), member)
  -- Only a pod whose containers have not started is in the pending set.
  if pod.phase == 'Pending' then redis.call('ZREM', pendingKey, member) end
  emit(now, 'deleted', pod)
  pod.ready = false
  pod.readySince = nil
  pod.deleting = true
  pod.deletedAt = now
  if pod.idempotencyKey then
    redis.call('SET', idempotencyKey(pod.idempotencyKey), cjson.encode(pod), 'XX', 'KEEPTTL')
  end
end

local now = readClock()
materialize(now)
`;

/**
 * initFleet: creates the nodes node-1..node-N unless the fleet was initialised before.
 *   KEYS[6] meta
 *   ARGV[3] node count
 * Output: 1 created, 0 the fleet existed already (nothing changed).
 */
export const INIT_FLEET = `${PRELUDE}
local metaKey = KEYS[6]
if redis.call('EXISTS', metaKey) == 1 then return 0 end
local count = tonumber(ARGV[3])
redis.call('HSET', metaKey, 'createdAt', ms(now), 'nodeCount', ms(count))
for i = 1, count do
  local name = 'node-' .. i
  -- The well-known labels every kubelet sets, so nodeSelectors such as kubernetes.io/os=linux match.
  local labels = { ['kubernetes.io/hostname'] = name, ['kubernetes.io/os'] = 'linux', ['kubernetes.io/arch'] = 'amd64' }
  redis.call('HSETNX', nodesKey, name, cjson.encode({ name = name, ready = true, labels = labels }))
end
nodesChanged()
return 1
`;

/**
 * readFleet: one consistent read.
 *   ARGV[3] which nodes: "" none | "*" all | a nodes version: all unless that is still the version
 *   ARGV[4] which pods: "none" | "one" | "all" | "node"
 *   ARGV[5] the DaemonSet when "one" or "node"
 *   ARGV[6] the node when "node" (that DaemonSet's pods on that node only)
 *   ARGV[7] when "one": the pods' version the caller holds ("" none); the pods are left out while it holds
 * Output: { now, { node JSON... }, { pod JSON... }, nodes version, 1 when the nodes are included else 0,
 *   the pods' version when "one" else "", 1 when the pods are included else 0 }
 */
export const READ_FLEET = `${PRELUDE}
local nodes = {}
local version = nodesVersion()
local withNodes = ARGV[3] == '*' or (ARGV[3] ~= '' and ARGV[3] ~= version)
if withNodes then nodes = redis.call('HVALS', nodesKey) end
local pods = {}
local podsVer, withPods = '', 1
if ARGV[4] == 'one' then
  podsVer = podsVersion(ARGV[5])
  if ARGV[7] == podsVer then withPods = 0 else pods = redis.call('HVALS', podsKey(ARGV[5])) end
elseif ARGV[4] == 'node' then
  for _, member in ipairs(redis.call('SMEMBERS', nodePodsKey(ARGV[6]))) do
    local ds, pod = splitMember(member)
    if ds == ARGV[5] then
      local raw = redis.call('HGET', podsKey(ds), pod)
      if raw then pods[#pods + 1] = raw end
    end
  end
elseif ARGV[4] == 'all' then
  for _, ds in ipairs(redis.call('SMEMBERS', daemonSetsKey)) do
    for _, raw in ipairs(redis.call('HVALS', podsKey(ds))) do pods[#pods + 1] = raw end
  end
end
return { now, nodes, pods, version, withNodes and 1 or 0, podsVer, withPods }
`;

/**
 * readTimeline: materialises, then reads the timeline.
 *   ARGV[3] XRANGE start ("-", "<ms>" or "(<id>")
 *   ARGV[4] max entries, "" for all
 * Output: { now, { { id, { field, value, ... } }, ... } }
 */
export const READ_TIMELINE = `${PRELUDE}
local entries
if ARGV[4] == '' then
  entries = redis.call('XRANGE', timelineKey, ARGV[3], '+')
else
  entries = redis.call('XRANGE', timelineKey, ARGV[3], '+', 'COUNT', ARGV[4])
end
return { now, entries }
`;

/**
 * The body of createPod as a Lua function, shared with convergeNode. `a` holds one request (the ARGV of createPod, by
 * name); `previous` is the idempotency record when the caller has read it already (false: none; nil: not read yet);
 * `nodeRaw` the node's JSON and `nameFree` true when the caller has looked them up already.
 *
 * A pod whose containers start at once (delay 0) is written Running, and Ready when its node is, in the same step:
 * what materialize would do at `now`, without the round through the pending set (the hot path of a 10,000-node
 * rollout with no start delay).
 */
const CREATE_POD_FN = `
local knownDaemonSets = {} -- added to the DaemonSets set by this script run already
local function createPod(a, previous, nodeRaw, nameFree)
  local ds, node, name = a.ds, a.node, a.name
  local idemKey = idempotencyKey(a.idem)
  if previous == nil then previous = redis.call('GET', idemKey) end
  if previous then
    local last = cjson.decode(previous)
    local current = redis.call('HGET', podsKey(last.daemonSet), last.name)
    if current and cjson.decode(current).idempotencyKey == a.idem then return 0, current end
    return 0, previous
  end
  nodeRaw = nodeRaw or redis.call('HGET', nodesKey, node)
  if not nodeRaw then return -1, '' end
  local key = podsKey(ds)
  if not nameFree and redis.call('HEXISTS', key, name) == 1 then return -2, '' end
  local pod = {
    name = name, node = node, revision = a.revision, daemonSet = ds, images = cjson.decode(a.images),
    idempotencyKey = a.idem, createdAt = now, phase = 'Pending', ready = false,
  }
  if a.createdBy ~= '' then pod.createdBy = a.createdBy end
  local delay = tonumber(a.delay)
  local member = memberOf(ds, name)
  emit(now, 'created', pod)
  if delay == 0 then
    pod.phase = 'Running'
    if cjson.decode(nodeRaw).ready ~= false then
      pod.ready = true
      pod.readySince = now
      emit(now, 'ready', pod)
    end
  elseif delay > 0 then
    redis.call('ZADD', pendingKey, now + delay, member)
  end
  local json = cjson.encode(pod)
  redis.call('HSET', key, name, json)
  podsChanged(ds)
  if not knownDaemonSets[ds] then
    knownDaemonSets[ds] = true
    redis.call('SADD', daemonSetsKey, ds)
  end
  redis.call('SADD', nodePodsKey(node), member)
  redis.call('SET', idemKey, json, 'PX', a.ttl)
  return 1, json
end

-- One request from ARGV, from index i on (the order of createPod's ARGV[3..11]).
local function createRequest(i)
  return {
    ds = ARGV[i], node = ARGV[i + 1], name = ARGV[i + 2], revision = ARGV[i + 3], images = ARGV[i + 4],
    idem = ARGV[i + 5], createdBy = ARGV[i + 6], delay = ARGV[i + 7], ttl = ARGV[i + 8],
  }
end
`;

/**
 * createPod: atomic and idempotent per idempotency key.
 *   ARGV[3] DaemonSet   ARGV[4] node      ARGV[5] pod name   ARGV[6] revision
 *   ARGV[7] images JSON array            ARGV[8] idempotency key
 *   ARGV[9] createdBy ("" for none)      ARGV[10] start delay ms, "-1" when the pod never starts (failing image)
 *   ARGV[11] ms to keep the idempotency record
 * Output: { code, pod JSON }: 1 created; 0 the key was used before (pod = its current or last state);
 *   -1 node not found; -2 a live pod of the DaemonSet has that name.
 * Events: created (now); ready (now) when the start delay is 0 and the node is ready.
 */
export const CREATE_POD = `${PRELUDE}
${CREATE_POD_FN}
local code, pod = createPod(createRequest(3), nil)
return { code, pod }
`;

/** Values per request of convergeNode: createPod's nine, then the replace flag. */
export const CONVERGE_NODE_STRIDE = 10;

/**
 * convergeNode: one DaemonSet's pods on one node brought to one revision in one step (a node
 * update), for one or more requests in a row (one clock reading, as calls in the same millisecond).
 * Per request, from ARGV[3] on, {@link CONVERGE_NODE_STRIDE} values: createPod's ARGV[3..11], then
 *   "1" to delete the DaemonSet's pods of other revisions on the node first (replace), else "0"
 * Output per request, in order: { code, pod JSON, { deleted pod names } }: 1 created; 0 the key was
 *   used before (nothing deleted or created); 2 a live pod of that revision is already on the node
 *   (returned; others deleted if asked); -1 node not found; -2 another pod of the DaemonSet has that
 *   name (nothing deleted).
 * Events: deleted (now) for each pod removed; created/ready as createPod.
 */
export const CONVERGE_NODE = `${PRELUDE}
${CREATE_POD_FN}
local function converge(a, replace)
  local ds, node, revision = a.ds, a.node, a.revision
  local previous = redis.call('GET', idempotencyKey(a.idem))
  if previous then
    local code, pod = createPod(a, previous)
    return { code, pod, {} }
  end
  local nodeRaw = redis.call('HGET', nodesKey, node)
  if not nodeRaw then return { -1, '', {} } end
  local key = podsKey(ds)
  -- A name taken by another pod fails before anything is deleted.
  local taken = redis.call('HGET', key, a.name)
  if taken then
    local t = cjson.decode(taken)
    if t.node ~= node or t.revision ~= revision or t.phase == 'Failed' or t.phase == 'Succeeded' then
      return { -2, '', {} }
    end
  end
  local deleted = {}
  local existing = nil
  local members = redis.call('SMEMBERS', nodePodsKey(node))
  table.sort(members)
  for _, member in ipairs(members) do
    local podDs, podName = splitMember(member)
    if podDs == ds then
      local raw = redis.call('HGET', key, podName)
      if raw then
        local pod = cjson.decode(raw)
        if pod.revision == revision and pod.phase ~= 'Failed' and pod.phase ~= 'Succeeded' then
          existing = existing or raw
        elseif replace then
          removePod(ds, podName, raw, now, pod, true)
          deleted[#deleted + 1] = podName
        end
      end
    end
  end
  if existing then return { 2, existing, deleted } end
  local code, pod = createPod(a, false, nodeRaw, true)
  return { code, pod, deleted }
end

local results = {}
for i = 3, #ARGV, ${CONVERGE_NODE_STRIDE} do
  results[#results + 1] = converge(createRequest(i), ARGV[i + 9] == '1')
end
return results
`;

/**
 * deletePod: removes a pod at once (no graceful termination).
 *   ARGV[3] DaemonSet   ARGV[4] pod name
 * Output: 1 deleted, 0 it was already gone.
 * Events: deleted (now).
 */
export const DELETE_POD = `${PRELUDE}
local raw = redis.call('HGET', podsKey(ARGV[3]), ARGV[4])
if not raw then return 0 end
removePod(ARGV[3], ARGV[4], raw, now)
return 1
`;

/**
 * upsertNode: adds a node, or replaces its labels, taints and flags.
 *   ARGV[3] NodeInput JSON (with ready set; empty arrays and objects left out)
 * Output: 1 added, 0 replaced.
 * Events: ready / not-ready of its pods when the replacement changes the node's readiness.
 */
export const UPSERT_NODE = `${PRELUDE}
local node = cjson.decode(ARGV[3])
local previous = redis.call('HGET', nodesKey, node.name)
redis.call('HSET', nodesKey, node.name, ARGV[3])
nodesChanged()
if not previous then return 1 end
local wasReady = cjson.decode(previous).ready ~= false
local isReady = node.ready ~= false
if wasReady ~= isReady then applyNodeReady(node.name, isReady, now) end
return 0
`;

/**
 * setNodeReady: marks a node Ready or NotReady; its Running pods follow at once.
 *   ARGV[3] node name   ARGV[4] "1" ready, "0" not ready
 * Output: 1 done (also when it was in that state already), 0 node not found.
 * Events: not-ready of its ready pods, or ready of its Running pods (readySince = now).
 */
export const SET_NODE_READY = `${PRELUDE}
local raw = redis.call('HGET', nodesKey, ARGV[3])
if not raw then return 0 end
local node = cjson.decode(raw)
local ready = ARGV[4] == '1'
if (node.ready ~= false) == ready then return 1 end
node.ready = ready
redis.call('HSET', nodesKey, ARGV[3], cjson.encode(node))
nodesChanged()
applyNodeReady(ARGV[3], ready, now)
return 1
`;

/**
 * removeNode: removes a node and, like the Kubernetes pod garbage collector, deletes the pods bound to it.
 *   ARGV[3] node name
 * Output: 1 removed, 0 node not found.
 * Events: deleted (now) for each of its pods.
 */
export const REMOVE_NODE = `${PRELUDE}
if redis.call('HEXISTS', nodesKey, ARGV[3]) == 0 then return 0 end
local members = redis.call('SMEMBERS', nodePodsKey(ARGV[3]))
table.sort(members)
for _, member in ipairs(members) do
  local ds, name = splitMember(member)
  local raw = redis.call('HGET', podsKey(ds), name)
  if raw then removePod(ds, name, raw, now) end
end
redis.call('DEL', nodePodsKey(ARGV[3]))
redis.call('HDEL', nodesKey, ARGV[3])
nodesChanged()
return 1
`;
