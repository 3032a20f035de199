// One phone running the real WatermelonDB client (LokiJS adapter, in memory, in node) against fieldwork.
//
//   node device.mjs <base-url> <access-token>        (or FIELDWORK_URL / FIELDWORK_TOKEN)
//
// The database lives as long as the process, so a test drives a whole scenario through one process: it writes
// one JSON command a line on stdin and reads one JSON answer a line on stdout (stdout carries nothing else;
// console output of WatermelonDB goes to stderr and, for warnings and errors, into `console` of each answer).
//
//   {"op": "sync"}                                   synchronize(); answers {"ok", "log", "requests", "console"}
//   {"op": "sync", "pauseBeforePush": true}          the same, but when WatermelonDB is about to push it answers
//                                                    {"paused": "push", "changes"} and waits for {"op": "resume"}
//   {"op": "create", "table": t, "raw": {...}}        a local create (like a form on the phone); answers {"id"}
//   {"op": "update", "table": t, "id": i, "raw": {...}}  a local edit of some columns
//   {"op": "dump"}                                   every local record (with _status/_changed) and the sync state
//   {"op": "exit"}
import { createRequire } from 'node:module'
import readline from 'node:readline'

const require = createRequire(import.meta.url)
const { Database, Model, appSchema, tableSchema } = require('@nozbe/watermelondb')
const { synchronize, hasUnsyncedChanges } = require('@nozbe/watermelondb/sync')
const { getLastPulledAt, getLastPulledSchemaVersion } = require('@nozbe/watermelondb/sync/impl')
const { schemaMigrations } = require('@nozbe/watermelondb/Schema/migrations')
const LokiJSAdapter = require('@nozbe/watermelondb/adapters/lokijs').default

const baseUrl = (process.argv[2] || process.env.FIELDWORK_URL || '').replace(/\/$/, '')
const token = process.argv[3] || process.env.FIELDWORK_TOKEN || ''
if (!baseUrl || !token) {
  process.stderr.write('usage: node device.mjs <base-url> <access-token>\n')
  process.exit(2)
}

// Keep stdout for answers; remember what WatermelonDB warns or complains about.
const consoleLines = []
for (const level of ['log', 'info', 'debug', 'warn', 'error']) {
  console[level] = (...args) => {
    const line = args.map((a) => (a instanceof Error ? a.stack : typeof a === 'string' ? a : JSON.stringify(a))).join(' ')
    if (level === 'warn' || level === 'error') consoleLines.push({ level, line })
    process.stderr.write(`[${level}] ${line}\n`)
  }
}

// The app's schema, as a WatermelonDB app would declare it from sync/tables.py (client schema version 1).
const SCHEMA_VERSION = 1
const optional = (name, type) => ({ name, type, isOptional: true })
const required = (name, type) => ({ name, type })
const schema = appSchema({
  version: SCHEMA_VERSION,
  tables: [
    tableSchema({
      name: 'properties',
      columns: [
        required('name', 'string'),
        optional('address', 'string'),
        required('timezone', 'string'),
        optional('geo_lat', 'number'),
        optional('geo_lon', 'number'),
        optional('geo_radius_m', 'number'),
      ],
    }),
    tableSchema({
      name: 'buildings',
      columns: [required('property_id', 'string'), required('name', 'string')],
    }),
    tableSchema({
      name: 'units',
      columns: [
        required('property_id', 'string'),
        required('building_id', 'string'),
        required('number', 'string'),
        optional('floor', 'number'),
        optional('area_m2', 'number'),
      ],
    }),
    tableSchema({
      name: 'handover_notes',
      columns: [
        required('property_id', 'string'),
        required('author_id', 'string'),
        required('body', 'string'),
        required('status', 'string'),
        optional('resolved_by', 'string'),
        optional('resolved_at', 'number'),
        required('created_at', 'number'),
      ],
    }),
    tableSchema({
      name: 'photos',
      columns: [
        required('property_id', 'string'),
        required('record_table', 'string'),
        required('record_id', 'string'),
        required('uploaded_by', 'string'),
        optional('taken_at', 'number'),
        optional('content_type', 'string'),
        optional('note', 'string'),
        optional('status', 'string'),
        optional('width', 'number'),
        optional('height', 'number'),
      ],
    }),
  ],
})

// Plain models, no decorators: the test reads and writes raw columns.
const modelClasses = Object.keys(schema.tables).map(
  (table) =>
    class extends Model {
      static table = table
    },
)

const adapter = new LokiJSAdapter({
  schema,
  // none yet; having them enables migration syncs (`migrationsEnabledAtVersion: 1`), as an app would
  migrations: schemaMigrations({ migrations: [] }),
  dbName: 'fieldwork-e2e',
  useWebWorker: false,
  useIncrementalIndexedDB: false,
  onSetUpError: (error) => {
    process.stderr.write(`setup error: ${error && error.stack}\n`)
    process.exit(3)
  },
})
const database = new Database({ adapter, modelClasses })

// Every request WatermelonDB's sync made through us, for the test to look at.
let requests = []

async function call(method, path, body) {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      Accept: 'application/json',
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body,
  })
  const text = await response.text()
  requests.push({ method, path, status: response.status, body: body === undefined ? null : JSON.parse(body) })
  if (!response.ok) throw new Error(`${method} ${path} -> ${response.status}: ${text}`)
  const json = JSON.parse(text)
  requests[requests.length - 1].answer = json
  return json
}

// As in WatermelonDB's docs (Sync/Frontend): pass the arguments through, return the server's JSON unchanged.
async function pullChanges({ lastPulledAt, schemaVersion, migration }) {
  const query = new URLSearchParams({
    last_pulled_at: String(lastPulledAt ?? null),
    schema_version: String(schemaVersion),
    migration: JSON.stringify(migration ?? null),
  })
  return call('GET', `/sync/pull?${query}`)
}

function makePushChanges(pause) {
  return async ({ changes, lastPulledAt }) => {
    if (pause) {
      send({ paused: 'push', lastPulledAt, changes })
      const command = await nextCommand()
      if (!command || command.op !== 'resume') throw new Error(`expected {"op": "resume"}, got ${JSON.stringify(command)}`)
    }
    return call('POST', `/sync/push?last_pulled_at=${lastPulledAt}`, JSON.stringify(changes))
  }
}

async function sync(command) {
  const log = {}
  requests = []
  const before = consoleLines.length
  try {
    await synchronize({
      database,
      pullChanges,
      pushChanges: makePushChanges(Boolean(command.pauseBeforePush)),
      migrationsEnabledAtVersion: 1,
      log,
    })
    return { ok: true, log, requests, console: consoleLines.slice(before) }
  } catch (error) {
    return { ok: false, error: String(error && error.stack), log, requests, console: consoleLines.slice(before) }
  }
}

async function create({ table, raw }) {
  let record
  await database.write(async () => {
    record = await database.get(table).create((r) => {
      for (const [column, value] of Object.entries(raw)) r._setRaw(column, value)
    })
  })
  return { id: record.id }
}

async function update({ table, id, raw }) {
  await database.write(async () => {
    const record = await database.get(table).find(id)
    await record.update((r) => {
      for (const [column, value] of Object.entries(raw)) r._setRaw(column, value)
    })
  })
  return { id }
}

async function dump() {
  const tables = {}
  for (const table of Object.keys(schema.tables)) {
    const records = await database.get(table).query().fetch()
    tables[table] = records.map((r) => ({ ...r._raw })).sort((a, b) => (a.id < b.id ? -1 : 1))
  }
  return {
    tables,
    lastPulledAt: await getLastPulledAt(database),
    lastPulledSchemaVersion: await getLastPulledSchemaVersion(database),
    unsynced: await hasUnsyncedChanges({ database }),
  }
}

function send(answer) {
  process.stdout.write(`${JSON.stringify(answer)}\n`)
}

// stdin, one JSON command a line; commands are handled one at a time, in order.
const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity })
const queued = []
const waiting = []
lines.on('line', (line) => {
  if (!line.trim()) return
  const command = JSON.parse(line)
  if (waiting.length) waiting.shift()(command)
  else queued.push(command)
})
lines.on('close', () => {
  while (waiting.length) waiting.shift()(null)
})
function nextCommand() {
  if (queued.length) return Promise.resolve(queued.shift())
  return new Promise((resolve) => waiting.push(resolve))
}

const handlers = { sync, create, update, dump }
for (;;) {
  const command = await nextCommand()
  if (!command || command.op === 'exit') break
  const handler = handlers[command.op]
  try {
    if (!handler) throw new Error(`unknown op ${command.op}`)
    send(await handler(command))
  } catch (error) {
    send({ ok: false, error: String(error && error.stack) })
  }
}
process.exit(0)
