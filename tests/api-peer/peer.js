#!/usr/bin/env node
'use strict';
/*
 * The API peer: plays the execution-service HTTP API against the database
 * (SPEC §3), so execsync's integration tests can change documents the way
 * the real API does, with a real MongoDB driver.
 *
 *   node peer.js --uri URI --db DB --user USER [--clock-offset-ms N] \
 *       COMMAND 'JSON-ARGS'
 *
 * One command per process. Success: exactly one line of canonical Extended
 * JSON on stdout, exit 0. A document not found or a database error: one line
 * on stderr, exit 1. Bad usage, bad JSON, an unknown command or a bad
 * argument: one line on stderr, exit 2. See README.md for every command.
 *
 * Writes follow the API: every document carries user_id, unset optional
 * fields are null, dates are BSON datetimes at 00:00 UTC, and updated_at
 * (created_at on create) is the API's clock, Date.now() + clock offset, so a
 * test can play an API whose clock is ahead or behind. FerretDB has no
 * transactions, so a command is a short sequence of plain writes.
 */

const { MongoClient, BSON } = require('mongodb');
const { EJSON, ObjectId } = BSON;

const DAY_MS = 86400000;

/* Date-only fields (YYYY-MM-DD in args) and timestamps, per collection. */
const DATE_FIELDS = {
	projects: ['created', 'started', 'last_reviewed', 'due', 'completed',
	    'descoped'],
	goals: ['created', 'last_reviewed'],
	actions: ['due', 'defer', 'action_date', 'completed'],
};
const TIMESTAMP_FIELDS = ['created_at', 'updated_at', 'deleted_at'];

const PROJECT_FOLDERS = ['active', 'incubator', 'completed', 'descoped'];
const PROJECT_TYPES = ['standard', 'coordination', 'habit', 'goal'];
const GOAL_FOLDERS = ['active', 'incubator'];
const ACTION_STATES = ['next', 'waiting', 'deferred', 'incubating',
    'completed'];

/* Failures carry their exit status: 1 = not found / database, 2 = usage. */
class PeerError extends Error {
	constructor(status, message) {
		super(message);
		this.status = status;
	}
}
function usage(msg) { return new PeerError(2, msg); }
function notFound(msg) { return new PeerError(1, 'not found: ' + msg); }

/*
 * The API's Python slugify (SPEC §2): lower-case (no normalisation), drop
 * what is not a letter, number, '_', whitespace or '-', turn runs of
 * whitespace, '_' and '-' into one '-', strip '-' at both ends. "\s" is
 * Python's str.isspace() set, which is not JavaScript's (U+001C..U+001F and
 * U+0085 are in it, U+FEFF is not). Like the API, "!!!" gives "" (and a
 * clash "-2"): tests of unsafe slugs. lib/slug.c is the exact version;
 * this one may differ only where Node's Unicode data is newer than 14.0.
 */
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a' +
    '\\u2028\\u2029\\u202f\\u205f\\u3000';
const SLUG_DROP = new RegExp(`[^\\p{L}\\p{N}_${PY_SPACE}-]`, 'gu');
const SLUG_SEP = new RegExp(`[${PY_SPACE}_-]+`, 'gu');

function slugify(title) {
	let s = String(title).toLowerCase();
	s = s.replace(SLUG_DROP, '');
	s = s.replace(SLUG_SEP, '-');
	return s.replace(/^-+|-+$/gu, '');
}

/* Strict YYYY-MM-DD to a Date at 00:00 UTC, or null when it is not one. */
function parseDay(str) {
	const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(str);
	if (m === null)
		return null;
	const y = Number(m[1]), mo = Number(m[2]), d = Number(m[3]);
	if (y < 1 || mo < 1 || mo > 12 || d < 1)
		return null;
	const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
	const mdays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
	    31];
	if (d > mdays[mo - 1])
		return null;
	const t = new Date(0);
	/* setUTCFullYear, unlike Date.UTC, does not map years 0-99 to 19xx. */
	t.setUTCFullYear(y, mo - 1, d);
	return t;
}

/* A date argument: null, a BSON date given as EJSON, or YYYY-MM-DD. */
function toDay(field, v) {
	if (v === null || v instanceof Date)
		return v;
	const d = typeof v === 'string' ? parseDay(v) : null;
	if (d === null)
		throw usage(`bad date for ${field}: ${JSON.stringify(v)} ` +
		    '(want "YYYY-MM-DD" or null)');
	return d;
}

/* A timestamp argument: also accepts an ISO 8601 UTC time. */
function toTimestamp(field, v) {
	if (typeof v === 'string' &&
	    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/.test(v)) {
		const d = new Date(v);
		if (!isNaN(d.getTime()))
			return d;
	}
	return toDay(field, v);
}

/* Converts the date and timestamp fields of a $set to BSON dates. */
function convertSet(coll, set) {
	if (set === null || typeof set !== 'object' || Array.isArray(set))
		throw usage('"set" must be an object');
	const out = {};
	for (const [k, v] of Object.entries(set)) {
		if (DATE_FIELDS[coll].includes(k))
			out[k] = toDay(k, v);
		else if (TIMESTAMP_FIELDS.includes(k))
			out[k] = toTimestamp(k, v);
		else
			out[k] = v;
	}
	return out;
}

function checkKeys(args, allowed, required) {
	for (const k of Object.keys(args))
		if (!allowed.includes(k))
			throw usage(`unknown argument "${k}" ` + (allowed.length ?
			    `(known: ${allowed.join(', ')})` : '(takes none)'));
	for (const k of required)
		if (args[k] === undefined)
			throw usage(`missing argument "${k}"`);
}

function wantString(args, k) {
	if (typeof args[k] !== 'string' || args[k] === '')
		throw usage(`"${k}" must be a non-empty string`);
	return args[k];
}

function optString(args, k, dflt) {
	if (args[k] === undefined || args[k] === null)
		return dflt;
	if (typeof args[k] !== 'string')
		throw usage(`"${k}" must be a string or null`);
	return args[k];
}

function wantEnum(k, v, allowed) {
	if (!allowed.includes(v))
		throw usage(`bad ${k} ${JSON.stringify(v)} ` +
		    `(one of ${allowed.join(', ')})`);
	return v;
}

function wantObject(k, v) {
	if (v === null || typeof v !== 'object' || Array.isArray(v) ||
	    v instanceof Date)
		throw usage(`"${k}" must be an object`);
	return v;
}

function wantCollection(v) {
	if (typeof v !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(v))
		throw usage(`bad collection ${JSON.stringify(v)}`);
	return v;
}

function toObjectId(v) {
	if (v instanceof ObjectId)
		return v;
	if (typeof v === 'string' && /^[0-9a-fA-F]{24}$/.test(v))
		return new ObjectId(v);
	throw usage(`bad id ${JSON.stringify(v)} ` +
	    '(want 24 hex digits)');
}

class Peer {
	constructor(db, user, offsetMs) {
		this.db = db;
		this.user = user;
		this.offsetMs = offsetMs;
	}

	/* The API's clock. */
	now() { return new Date(Date.now() + this.offsetMs); }
	today() {
		return new Date(Math.floor(this.now().getTime() / DAY_MS) * DAY_MS);
	}

	coll(name) { return this.db.collection(name); }

	/* Reads keep BSON types (Int32 vs Int64 vs Double) so output shows them. */
	async findOne(coll, filter) {
		return this.coll(coll).findOne(filter, { promoteValues: false });
	}

	/*
	 * This user's document with a slug: the live one if any, else the newest
	 * deleted one (so a test can still update or undelete it).
	 */
	async bySlug(coll, slug, required = true) {
		if (typeof slug !== 'string')
			throw usage('"slug" must be a string');
		const docs = await this.coll(coll)
		    .find({ user_id: this.user, slug: slug },
			{ promoteValues: false })
		    .sort({ _id: -1 }).toArray();
		const doc = docs.find((d) => d.deleted !== true) || docs[0] || null;
		if (doc === null && required)
			throw notFound(`${coll} slug '${slug}'`);
		return doc;
	}

	async byId(coll, id, required = true) {
		const oid = toObjectId(id);
		const doc = await this.findOne(coll,
		    { _id: oid, user_id: this.user });
		if (doc === null && required)
			throw notFound(`${coll} id '${oid.toHexString()}'`);
		return doc;
	}

	/*
	 * slugify(title), made unique among all of this user's documents of the
	 * collection, deleted ones included, with -2, -3, ... (SPEC §2);
	 * `selfId` is the document being retitled, whose own slug is no clash.
	 */
	async uniqueSlug(coll, title, selfId = null) {
		const base = slugify(title);
		const docs = await this.coll(coll)
		    .find({ user_id: this.user }, { projection: { slug: 1 } })
		    .toArray();
		const taken = new Set();
		for (const d of docs)
			if (selfId === null || !d._id.equals(selfId))
				taken.add(d.slug);
		if (!taken.has(base))
			return base;
		for (let n = 2; ; n++)
			if (!taken.has(`${base}-${n}`))
				return `${base}-${n}`;
	}

	/* $set plus updated_at (now, unless fields name it), then the document
	 * as stored. */
	async set(coll, id, fields) {
		const upd = Object.assign({ updated_at: this.now() }, fields);
		const r = await this.coll(coll).updateOne(
		    { _id: id, user_id: this.user }, { $set: upd });
		if (r.matchedCount !== 1)
			throw notFound(`${coll} id '${id.toHexString()}'`);
		return this.findOne(coll, { _id: id });
	}

	async insert(coll, doc) {
		const r = await this.coll(coll).insertOne(doc);
		return this.findOne(coll, { _id: r.insertedId });
	}

	dates(coll, args, doc) {
		for (const f of DATE_FIELDS[coll])
			if (args[f] !== undefined)
				doc[f] = toDay(f, args[f]);
	}

	async createProject(args) {
		checkKeys(args, ['title', 'area', 'folder', 'type', 'content',
		    'created', 'started', 'last_reviewed', 'due', 'completed',
		    'descoped', 'extra'], ['title', 'area']);
		const title = wantString(args, 'title');
		const now = this.now();
		const doc = {
			_id: new ObjectId(),
			user_id: this.user,
			title: title,
			slug: await this.uniqueSlug('projects', title),
			area: wantString(args, 'area'),
			folder: wantEnum('folder', args.folder ?? 'active',
			    PROJECT_FOLDERS),
			type: wantEnum('type', args.type ?? 'standard',
			    PROJECT_TYPES),
			content: optString(args, 'content', ''),
			created: this.today(),
			started: null, last_reviewed: null, due: null,
			completed: null, descoped: null,
			extra: wantObject('extra', args.extra ?? {}),
			deleted: false, deleted_at: null,
			created_at: now, updated_at: now,
		};
		this.dates('projects', args, doc);
		return this.insert('projects', doc);
	}

	async createGoal(args) {
		checkKeys(args, ['title', 'area', 'folder', 'content',
		    'created', 'last_reviewed', 'extra'], ['title']);
		const title = wantString(args, 'title');
		const now = this.now();
		const doc = {
			_id: new ObjectId(),
			user_id: this.user,
			title: title,
			slug: await this.uniqueSlug('goals', title),
			area: optString(args, 'area', null),
			folder: wantEnum('folder', args.folder ?? 'active',
			    GOAL_FOLDERS),
			content: optString(args, 'content', ''),
			created: this.today(),
			last_reviewed: null,
			extra: wantObject('extra', args.extra ?? {}),
			deleted: false, deleted_at: null,
			created_at: now, updated_at: now,
		};
		this.dates('goals', args, doc);
		return this.insert('goals', doc);
	}

	async createAction(args) {
		checkKeys(args, ['text', 'context', 'project_slug', 'state',
		    'due', 'defer', 'action_date', 'completed', 'priority'],
		    ['text']);
		const now = this.now();
		const doc = {
			_id: new ObjectId(),
			user_id: this.user,
			text: wantString(args, 'text'),
			context: optString(args, 'context', null),
			project_slug: optString(args, 'project_slug', null),
			state: wantEnum('state', args.state ?? 'next',
			    ACTION_STATES),
			due: null, defer: null, action_date: null, completed: null,
			priority: optString(args, 'priority', null),
			deleted: false, deleted_at: null,
			created_at: now, updated_at: now,
		};
		this.dates('actions', args, doc);
		if (doc.state === 'completed' && doc.completed === null)
			doc.completed = this.today();
		return this.insert('actions', doc);
	}

	async update(coll, args, key) {
		checkKeys(args, [key, 'set'], [key, 'set']);
		const doc = key === 'slug' ? await this.bySlug(coll, args.slug) :
		    await this.byId(coll, args.id);
		return this.set(coll, doc._id, convertSet(coll, args.set));
	}

	async retitleProject(args) {
		checkKeys(args, ['slug', 'title'], ['slug', 'title']);
		const title = wantString(args, 'title');
		const doc = await this.bySlug('projects', args.slug);
		const slug = await this.uniqueSlug('projects', title, doc._id);
		return this.set('projects', doc._id, { title: title, slug: slug });
	}

	/* complete, descope, activate: folder plus a date (SPEC §3). */
	async moveProject(args, folder) {
		checkKeys(args, ['slug', 'date'], ['slug']);
		const day = args.date === undefined ? this.today() :
		    toDay('date', args.date);
		const doc = await this.bySlug('projects', args.slug);
		const fields = { folder: folder };
		if (folder === 'completed')
			fields.completed = day;
		else if (folder === 'descoped')
			fields.descoped = day;
		else if (doc.started === null || doc.started === undefined)
			fields.started = day;
		return this.set('projects', doc._id, fields);
	}

	/* Soft delete of a project and of its live actions (SPEC §3). */
	async deleteProject(args) {
		checkKeys(args, ['slug'], ['slug']);
		const doc = await this.bySlug('projects', args.slug);
		const now = this.now();
		const project = await this.set('projects', doc._id,
		    { deleted: true, deleted_at: now, updated_at: now });
		const r = await this.coll('actions').updateMany(
		    { user_id: this.user, project_slug: doc.slug,
			deleted: { $ne: true } },
		    { $set: { deleted: true, deleted_at: now, updated_at: now } });
		return '{"project":' + EJSON.stringify(project, { relaxed: false }) +
		    ',"actions_deleted":' + r.modifiedCount + '}';
	}

	async softDelete(coll, args, key) {
		checkKeys(args, [key], [key]);
		const doc = key === 'slug' ? await this.bySlug(coll, args.slug) :
		    await this.byId(coll, args.id);
		const now = this.now();
		return this.set(coll, doc._id,
		    { deleted: true, deleted_at: now, updated_at: now });
	}

	async completeAction(args) {
		checkKeys(args, ['id', 'date'], ['id']);
		const day = args.date === undefined ? this.today() :
		    toDay('date', args.date);
		const doc = await this.byId('actions', args.id);
		return this.set('actions', doc._id,
		    { state: 'completed', completed: day });
	}

	/* A document exactly as given, for hostile documents in tests. */
	async insertRaw(args) {
		checkKeys(args, ['collection', 'doc'], ['collection', 'doc']);
		const coll = wantCollection(args.collection);
		const doc = wantObject('doc', args.doc);
		if (!('user_id' in doc))
			doc.user_id = this.user;
		return this.insert(coll, doc);
	}

	/*
	 * Added for tests: $set (and $unset) exactly as given, with no date
	 * conversion and no updated_at, to plant mistyped fields or a chosen
	 * updated_at in an existing document.
	 */
	async updateRaw(args) {
		checkKeys(args, ['collection', 'id', 'slug', 'set', 'unset'],
		    ['collection']);
		const coll = wantCollection(args.collection);
		const doc = await this.lookup(coll, args, true);
		const upd = {};
		if (args.set !== undefined)
			upd.$set = wantObject('set', args.set);
		if (args.unset !== undefined) {
			if (!Array.isArray(args.unset))
				throw usage('"unset" must be an array of names');
			upd.$unset = {};
			for (const k of args.unset)
				upd.$unset[k] = '';
		}
		if (Object.keys(upd).length === 0)
			throw usage('nothing to do (want "set" or "unset")');
		await this.coll(coll).updateOne({ _id: doc._id }, upd);
		return this.findOne(coll, { _id: doc._id });
	}

	async lookup(coll, args, required) {
		if ((args.id === undefined) === (args.slug === undefined))
			throw usage('want exactly one of "id" and "slug"');
		return args.id !== undefined ?
		    this.byId(coll, args.id, required) :
		    this.bySlug(coll, args.slug, required);
	}

	async get(args) {
		checkKeys(args, ['collection', 'id', 'slug'], ['collection']);
		const coll = wantCollection(args.collection);
		return this.lookup(coll, args, false);
	}

	async dump(args) {
		checkKeys(args, [], []);
		const out = {};
		for (const c of ['projects', 'goals', 'actions'])
			out[c] = await this.coll(c)
			    .find({ user_id: this.user }, { promoteValues: false })
			    .sort({ _id: 1 }).toArray();
		return out;
	}

	async ping(args) {
		checkKeys(args, [], []);
		await this.db.command({ ping: 1 });
		return '{"ok":1}';
	}
}

/* command -> (peer, args) => document, or a ready JSON string. */
const COMMANDS = {
	'create-project': (p, a) => p.createProject(a),
	'update-project': (p, a) => p.update('projects', a, 'slug'),
	'retitle-project': (p, a) => p.retitleProject(a),
	'complete-project': (p, a) => p.moveProject(a, 'completed'),
	'descope-project': (p, a) => p.moveProject(a, 'descoped'),
	'activate-project': (p, a) => p.moveProject(a, 'active'),
	'delete-project': (p, a) => p.deleteProject(a),
	'create-goal': (p, a) => p.createGoal(a),
	'update-goal': (p, a) => p.update('goals', a, 'slug'),
	'delete-goal': (p, a) => p.softDelete('goals', a, 'slug'),
	'create-action': (p, a) => p.createAction(a),
	'update-action': (p, a) => p.update('actions', a, 'id'),
	'complete-action': (p, a) => p.completeAction(a),
	'delete-action': (p, a) => p.softDelete('actions', a, 'id'),
	'insert-raw': (p, a) => p.insertRaw(a),
	'update-raw': (p, a) => p.updateRaw(a),
	'get': (p, a) => p.get(a),
	'dump': (p, a) => p.dump(a),
	'ping': (p, a) => p.ping(a),
};

const USAGE = 'usage: peer.js --uri URI --db DB --user USER ' +
    '[--clock-offset-ms N] COMMAND \'JSON-ARGS\'';

function parseArgv(argv) {
	const opt = { uri: null, db: null, user: null, offset: 0 };
	const rest = [];
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		const flag = { '--uri': 'uri', '--db': 'db', '--user': 'user',
		    '--clock-offset-ms': 'offset' }[a];
		if (flag === undefined) {
			if (a.startsWith('--'))
				throw usage(`unknown option ${a}; ${USAGE}`);
			rest.push(a);
			continue;
		}
		if (i + 1 >= argv.length)
			throw usage(`${a} needs a value; ${USAGE}`);
		opt[flag] = argv[++i];
	}
	for (const k of ['uri', 'db', 'user'])
		if (opt[k] === null || opt[k] === '')
			throw usage(`missing --${k}; ${USAGE}`);
	if (typeof opt.offset === 'string') {
		if (!/^[-+]?\d+$/.test(opt.offset))
			throw usage(`bad --clock-offset-ms '${opt.offset}'`);
		opt.offset = Number(opt.offset);
	}
	if (rest.length < 1 || rest.length > 2)
		throw usage(USAGE);
	opt.command = rest[0];
	if (!Object.hasOwn(COMMANDS, opt.command))
		throw usage(`unknown command '${opt.command}' (known: ` +
		    `${Object.keys(COMMANDS).join(', ')})`);
	let json;
	try {
		json = JSON.parse(rest.length === 2 ? rest[1] : '{}');
	} catch (e) {
		throw usage(`bad JSON arguments for ${opt.command}: ${e.message}`);
	}
	if (json === null || typeof json !== 'object' || Array.isArray(json))
		throw usage(`JSON arguments for ${opt.command} must be an object`);
	try {
		/* Canonical EJSON: {"$oid"}, {"$date"}, {"$numberLong"} typed. */
		opt.args = EJSON.deserialize(json, { relaxed: false });
	} catch (e) {
		throw usage(`bad Extended JSON arguments: ${e.message}`);
	}
	return opt;
}

function oneLine(s) {
	return String(s).replace(/\s*\n\s*/g, ' ').trim();
}

async function main() {
	let opt;
	try {
		opt = parseArgv(process.argv.slice(2));
	} catch (e) {
		process.stderr.write(`peer: ${oneLine(e.message)}\n`);
		return e.status ?? 2;
	}
	const clientOpts = {};
	/* Fail fast when the server is away, unless the URI says otherwise. */
	if (!/[?&]serverSelectionTimeoutMS=/i.test(opt.uri))
		clientOpts.serverSelectionTimeoutMS = 10000;
	let client = null;
	try {
		client = new MongoClient(opt.uri, clientOpts);
		const peer = new Peer(client.db(opt.db), opt.user, opt.offset);
		const res = await COMMANDS[opt.command](peer, opt.args);
		const line = typeof res === 'string' ? res :
		    EJSON.stringify(res, { relaxed: false });
		process.stdout.write(line + '\n');
		return 0;
	} catch (e) {
		process.stderr.write(`peer: ${opt.command}: ` +
		    `${oneLine(e.message)}\n`);
		if (e instanceof PeerError)
			return e.status;
		return e.name === 'MongoParseError' ? 2 : 1;
	} finally {
		if (client !== null)
			await client.close().catch(() => {});
	}
}

/* A reader that went away (EPIPE) is a failure, not a crash. */
process.stdout.on('error', () => { process.exitCode = 1; });
main().then((status) => {
	if (process.exitCode === undefined)
		process.exitCode = status;
});
