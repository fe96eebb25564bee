#!/usr/bin/env node
// The two commands of the README (`npm start`, `npm test`) and their helpers, on a fresh clone of a
// fresh machine: installs what is missing (pnpm, npm packages, the Debian packages for etcd and the
// Kafka-protocol mock), builds, then runs. Plain Node so that it works before anything is installed.
//
//   node tools/run.mjs test  [jest args...]   build, typecheck, lint, then every unit + integration test
//   node tools/run.mjs start [server flags...] build and run the standalone server
//   node tools/run.mjs build | lint | format | bench <scenario> [args...]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const root = path.resolve(import.meta.dirname, '..');
const [command = 'test', ...args] = process.argv.slice(2);
// `node tools/run.mjs start -- --flag` and `npm start -- --flag` both pass just the flags on.
const rest = args[0] === '--' ? args.slice(1) : args;
const started = Date.now();
const env = {
  ...process.env,
  NX_DAEMON: 'false',
  NX_NO_CLOUD: 'true',
  NX_TUI: 'false',
  NX_SKIP_NX_CACHE: process.env.NX_SKIP_NX_CACHE ?? '',
  FORCE_COLOR: process.env.FORCE_COLOR ?? '0',
};

const say = (msg) => console.log(`[streamsvc] ${msg}`);
const fail = (msg) => {
  console.error(`[streamsvc] ${msg}`);
  process.exit(1);
};

/** Runs a program with inherited stdio; returns its exit status. */
function run(cmd, args, options = {}) {
  const res = spawnSync(cmd, args, { cwd: root, env, stdio: 'inherit', ...options });
  if (res.error) fail(`cannot run ${cmd}: ${res.error.message}`);
  return res.status ?? 1;
}

function must(cmd, args, what) {
  if (run(cmd, args) !== 0) fail(`${what} failed`);
}

function capture(cmd, args) {
  const res = spawnSync(cmd, args, { cwd: root, env, encoding: 'utf8' });
  return res.status === 0 ? res.stdout.trim() : undefined;
}

/** pnpm at the version the root package.json pins, installed under .tools/ when missing. */
function ensurePnpm() {
  const wanted = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).packageManager.split('@')[1];
  const local = path.join(root, '.tools', 'node_modules', '.bin', 'pnpm');
  if (existsSync(local) && capture(local, ['--version']) === wanted) return local;
  if (capture('pnpm', ['--version']) === wanted) return 'pnpm';
  say(`installing pnpm ${wanted} into .tools/`);
  mkdirSync(path.join(root, '.tools'), { recursive: true });
  must(
    'npm',
    ['install', '--prefix', '.tools', '--no-save', '--no-audit', '--no-fund', `pnpm@${wanted}`],
    'installing pnpm',
  );
  return local;
}

/** etcd and the Kafka mock's build dependencies, from Debian, when missing. */
function ensureSystemPackages() {
  const missing = [];
  if (!capture('sh', ['-c', 'command -v etcd'])) missing.push('etcd-server', 'etcd-client');
  if (!capture('sh', ['-c', 'command -v gcc'])) missing.push('gcc');
  if (!capture('sh', ['-c', 'command -v pkg-config'])) missing.push('pkg-config');
  if (!existsSync('/usr/include/librdkafka/rdkafka_mock.h')) missing.push('librdkafka-dev');
  if (missing.length === 0) return;
  const isRoot = process.getuid?.() === 0;
  if (!isRoot && !capture('sh', ['-c', 'command -v sudo'])) {
    console.error(
      `[streamsvc] missing Debian packages ${missing.join(' ')} and no root or sudo to install them; the tests that need them will fail`,
    );
    return;
  }
  say(`installing Debian packages: ${missing.join(' ')}`);
  const aptEnv = { env: { ...env, DEBIAN_FRONTEND: 'noninteractive' } };
  const apt = (args) => (isRoot ? run('apt-get', args, aptEnv) : run('sudo', ['-n', 'apt-get', ...args], aptEnv));
  if (apt(['update', '-qq']) !== 0 || apt(['install', '-y', '-qq', '--no-install-recommends', ...missing]) !== 0) {
    console.error('[streamsvc] apt-get failed; the tests that need etcd or the Kafka mock will fail');
  }
}

function install(pnpm) {
  must(pnpm, ['install', '--frozen-lockfile', '--prefer-offline', '--reporter=append-only'], 'pnpm install');
}

function nx(pnpm, targets, extra = []) {
  return run(pnpm, ['exec', 'nx', 'run-many', '-t', ...targets, '--outputStyle=static', '--parallel=2', ...extra]);
}

function summarize(reportFile, jestStatus) {
  let report;
  try {
    report = JSON.parse(readFileSync(reportFile, 'utf8'));
  } catch {
    fail(`no test report at ${reportFile} (jest exited with ${jestStatus}): 0 passed, 1 failed`);
  }
  const {
    numPassedTests: passed,
    numFailedTests: failed,
    numPendingTests: skipped,
    numTotalTestSuites: suites,
  } = report;
  const failedSuites = report.testResults.filter((r) => r.status === 'failed');
  for (const r of failedSuites) console.log(`[streamsvc] FAILED ${path.relative(root, r.name)}`);
  const brokenSuites = failedSuites.filter((r) => r.assertionResults.length === 0).length;
  const seconds = Math.round((Date.now() - started) / 1000);
  const failures = failed + brokenSuites;
  console.log(
    `[streamsvc] test summary: ${passed} passed, ${failures} failed, ${skipped} skipped in ${suites} suites (${seconds} s)`,
  );
  if (passed === 0) fail('no test ran: that is a failure');
  process.exit(failures > 0 || jestStatus !== 0 ? 1 : 0);
}

const pnpm = ensurePnpm();
// Nx runs package scripts through pnpm, so the pnpm we resolved must be on PATH for every child.
if (path.isAbsolute(pnpm)) env.PATH = `${path.dirname(pnpm)}${path.delimiter}${env.PATH ?? ''}`;
switch (command) {
  case 'test': {
    ensureSystemPackages();
    install(pnpm);
    if (nx(pnpm, ['build', 'typecheck', 'lint']) !== 0) fail('build, typecheck or lint failed: 0 passed, 1 failed');
    if (run(pnpm, ['exec', 'prettier', '--check', '--log-level=warn', '.']) !== 0) {
      fail('formatting differs from Prettier (run `npm run format`): 0 passed, 1 failed');
    }
    const reportFile = path.join(root, '.reports', 'jest.json');
    mkdirSync(path.dirname(reportFile), { recursive: true });
    const jestStatus = run(
      pnpm,
      ['exec', 'jest', '--ci', '--maxWorkers=2', '--json', `--outputFile=${reportFile}`, ...rest],
      {
        env: { ...env, CI: env.CI ?? 'true' },
      },
    );
    summarize(reportFile, jestStatus);
    break;
  }
  case 'start': {
    install(pnpm);
    const app = path.join(root, 'apps', 'standalone');
    if (!existsSync(app)) {
      must(pnpm, ['exec', 'nx', 'run-many', '-t', 'build', '--outputStyle=static'], 'build');
      say('built the packages below; the standalone server (apps/standalone) is not part of this checkout yet:');
      run(pnpm, ['exec', 'nx', 'show', 'projects']);
      break;
    }
    must(pnpm, ['exec', 'nx', 'run', '@streamsvc/standalone:build', '--outputStyle=static'], 'build');
    // The Node options the server is meant to run with (V8 reads them only at startup), as its bin passes them.
    const { SERVER_NODE_OPTIONS } = await import(
      pathToFileURL(path.join(root, 'packages', 'app-kit', 'dist', 'index.js')).href
    );
    process.exit(run(process.execPath, [...SERVER_NODE_OPTIONS, path.join(app, 'dist', 'main.js'), ...rest]));
    break;
  }
  case 'build':
    install(pnpm);
    process.exit(nx(pnpm, ['build']));
    break;
  case 'lint':
    install(pnpm);
    process.exit(nx(pnpm, ['build', 'typecheck', 'lint']) || run(pnpm, ['exec', 'prettier', '--check', '.']));
    break;
  case 'format':
    install(pnpm);
    process.exit(run(pnpm, ['exec', 'prettier', '--write', '.']));
    break;
  case 'bench': {
    ensureSystemPackages();
    install(pnpm);
    process.exit(
      run(pnpm, [
        '--filter',
        '@streamsvc/bench',
        'exec',
        'node',
        '--conditions=@streamsvc/source',
        '--import',
        'tsx',
        'src/main.ts',
        ...rest,
      ]),
    );
    break;
  }
  default:
    fail(`unknown command "${command}"; use test, start, build, lint, format or bench`);
}
