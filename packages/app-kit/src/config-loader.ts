import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import type { z } from 'zod';

import { ConfigError } from './config-error.js';
import type { ConfigProblem, ConfigSource } from './config-error.js';
import { describeConfigFields, envNameOf, flagSpecOf, unwrapSetting } from './config-fields.js';
import type {
  AnyConfigSchema,
  ConfigField,
  ConfigKey,
  ConfigValueKind,
  EnvSpec,
  FlagSpec,
  FlagTable,
} from './config-fields.js';

/** The environment as the loader reads it (`process.env`, or a plain object in tests). */
export type ConfigEnv = Readonly<Record<string, string | undefined>>;

/** How an app's configuration is read: its schema and the flags and variables that set it. */
export interface ConfigLoaderOptions<S extends AnyConfigSchema> {
  /** The settings, with defaults and `.describe()` texts; `.strict()` so unknown file keys are errors. */
  readonly schema: S;
  /** Flag name (without `--`) → setting. A boolean setting makes a flag without a value. */
  readonly flags: FlagTable<ConfigKey<S>>;
  /** Environment variables; none are read when omitted. */
  readonly env?: EnvSpec<ConfigKey<S>>;
  /** The flag naming a JSON file of settings (default `config`, i.e. `--config FILE.json`); `false` for none. */
  readonly configFlag?: string | false;
  /** Appended to every error message, e.g. the app's usage line. */
  readonly usage?: string;
  /** Reads the config file (default: `readFileSync(path, 'utf8')`); tests pass a fake. */
  readonly readFile?: (path: string) => string;
}

/** A loaded configuration. */
export interface LoadedConfig<T> {
  /** Validated, with defaults applied. */
  readonly config: T;
  /** Whether `--help` / `-h` was given (the configuration was still validated). */
  readonly help: boolean;
  /** Where each top-level setting came from (`default` when nobody set it). */
  readonly sources: ReadonlyMap<string, ConfigSource>;
}

/** Reads one app's configuration; see {@link createConfigLoader}. */
export interface ConfigLoader<S extends AnyConfigSchema> {
  readonly schema: S;
  /** Every setting with its flag, variable, default and description, for help texts and README tables. */
  readonly fields: readonly ConfigField[];
  /**
   * Merges flags > environment > config file > schema defaults, coerces numeric and boolean strings,
   * and validates the result.
   * @throws {ConfigError} listing every problem found (unknown or valueless flags, stray arguments, an
   *   unreadable file, every invalid value) with where each value came from, then the usage text.
   */
  load(argv: readonly string[], env: ConfigEnv): LoadedConfig<z.output<S>>;
}

const BOOLEAN_WORDS: Readonly<Record<string, boolean>> = {
  true: true,
  false: false,
  '1': true,
  '0': false,
  yes: true,
  no: false,
  on: true,
  off: false,
};

/**
 * Flags and environment variables are strings; the schema wants numbers and booleans. A string that
 * is not a valid number or boolean is left alone so the schema reports it with its source.
 */
function coerce(value: unknown, kind: ConfigValueKind): unknown {
  if (typeof value !== 'string') return value;
  const text = value.trim();
  switch (kind) {
    case 'number':
      return text !== '' && Number.isFinite(Number(text)) ? Number(text) : value;
    case 'bigint':
      return /^[+-]?\d+$/.test(text) ? BigInt(text) : value;
    case 'boolean':
      return BOOLEAN_WORDS[text.toLowerCase()] ?? value;
    case 'string':
    case 'enum':
    case 'other':
      return value;
  }
}

const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * Builds the loader of one app's configuration from its zod schema, flag table and environment
 * mapping. Every app gets `--help`/`-h` and (unless `configFlag: false`) `--config FILE.json`.
 * @throws {Error} when the tables name a setting the schema lacks or reuse a reserved flag (a bug in
 *   the app, not a user error).
 */
export function createConfigLoader<S extends AnyConfigSchema>(options: ConfigLoaderOptions<S>): ConfigLoader<S> {
  const { schema, usage } = options;
  const configFlag = options.configFlag ?? 'config';
  const readFile = options.readFile ?? ((file: string) => readFileSync(file, 'utf8'));
  const env = options.env as EnvSpec | undefined;
  const fields = describeConfigFields(schema, options.flags, env);
  const kindOf = new Map(Object.entries(schema.shape).map(([key, s]) => [key, unwrapSetting(s).kind]));

  type ParseOption = { type: 'string' | 'boolean'; short?: string };
  const parseOptions: Record<string, ParseOption> = { help: { type: 'boolean', short: 'h' } };
  if (configFlag !== false) parseOptions[configFlag] = { type: 'string' };
  const keyOfFlag = new Map<string, string>();
  for (const [flag, entry] of Object.entries(options.flags)) {
    const spec: FlagSpec = flagSpecOf(entry);
    if (!kindOf.has(spec.key)) throw new Error(`flag --${flag} sets ${spec.key}, which the schema does not have`);
    if (parseOptions[flag]) throw new Error(`flag --${flag} is reserved`);
    parseOptions[flag] = {
      type: kindOf.get(spec.key) === 'boolean' ? 'boolean' : 'string',
      ...(spec.short === undefined ? {} : { short: spec.short }),
    };
    keyOfFlag.set(flag, spec.key);
  }
  for (const key of Object.keys(env?.names ?? {}))
    if (!kindOf.has(key)) throw new Error(`env names ${key}, which the schema does not have`);

  function readFlags(argv: readonly string[], problems: ConfigProblem[]) {
    const values = new Map<string, { value: unknown; source: ConfigSource }>();
    let help = false;
    let file: string | undefined;
    // strict: false so that every bad flag is reported, not just the first one parseArgs meets.
    const { tokens } = parseArgs({
      args: [...argv],
      options: parseOptions,
      strict: false,
      allowPositionals: true,
      tokens: true,
    });
    for (const token of tokens) {
      if (token.kind === 'option-terminator') continue;
      if (token.kind === 'positional') {
        problems.push({ path: token.value, message: 'unexpected argument (settings are given as --name value)' });
        continue;
      }
      const option = parseOptions[token.name];
      if (option === undefined) {
        problems.push({ path: token.rawName, message: 'unknown flag' });
        continue;
      }
      if (token.name === 'help') {
        if (token.value === undefined) help = true;
        else problems.push({ path: token.rawName, message: 'takes no value' });
        continue;
      }
      let value: unknown = token.value;
      if (option.type === 'boolean') {
        value = token.value ?? true; // `--flag` or `--flag=false`
      } else if (token.value === undefined) {
        problems.push({ path: token.rawName, message: 'needs a value' });
        continue;
      } else if (!token.inlineValue && token.value.startsWith('-')) {
        // What strict parseArgs calls ambiguous: most likely a forgotten value followed by the next flag.
        problems.push({
          path: token.rawName,
          message: `needs a value (got ${token.value}; write ${token.rawName}=${token.value} if that is the value)`,
        });
        continue;
      }
      if (token.name === configFlag) file = token.value;
      else values.set(keyOfFlag.get(token.name)!, { value, source: { kind: 'flag', name: token.rawName } });
    }
    return { values, help, file };
  }

  function readConfigFile(file: string, problems: ConfigProblem[]): Record<string, unknown> {
    const source: ConfigSource = { kind: 'file', name: file };
    let text: string;
    try {
      text = readFile(file);
    } catch (e) {
      problems.push({ path: `--${String(configFlag)} ${file}`, message: `cannot read it: ${errorMessage(e)}` });
      return {};
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      problems.push({ path: `--${String(configFlag)} ${file}`, message: `not valid JSON: ${errorMessage(e)}` });
      return {};
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      problems.push({ path: '(config)', message: 'expected a JSON object of settings', source });
      return {};
    }
    return parsed as Record<string, unknown>;
  }

  return {
    schema,
    fields,
    load(argv, environment) {
      const problems: ConfigProblem[] = [];
      const flags = readFlags(argv, problems);
      const raw: Record<string, unknown> = {};
      const sources = new Map<string, ConfigSource>();
      if (flags.file !== undefined) {
        for (const [key, value] of Object.entries(readConfigFile(flags.file, problems))) {
          raw[key] = value;
          sources.set(key, { kind: 'file', name: flags.file });
        }
      }
      for (const key of kindOf.keys()) {
        const name = envNameOf(key, env);
        const value = name === undefined ? undefined : environment[name];
        if (name !== undefined && value !== undefined) {
          raw[key] = value;
          sources.set(key, { kind: 'env', name });
        }
      }
      for (const [key, { value, source }] of flags.values) {
        raw[key] = value;
        sources.set(key, source);
      }
      for (const [key, kind] of kindOf) {
        if (key in raw) raw[key] = coerce(raw[key], kind);
        if (!sources.has(key)) sources.set(key, { kind: 'default' });
      }

      const parsed = schema.safeParse(raw);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) {
          if (issue.code === 'unrecognized_keys') {
            // Flags and variables only name known settings, so an unknown key can only come from the file.
            for (const key of issue.keys)
              problems.push({ path: key, message: 'unknown setting', source: sources.get(key) });
            continue;
          }
          const key = issue.path[0] === undefined ? undefined : String(issue.path[0]);
          const field = fields.find((f) => f.key === key);
          const missing = field !== undefined && issue.path.length === 1 && raw[field.key] === undefined;
          const ways = [field?.flag, field?.env].filter((w) => w !== undefined);
          problems.push({
            path: issue.path.map(String).join('.') || '(config)',
            message: missing ? `required${ways.length > 0 ? ` (set ${ways.join(' or ')})` : ''}` : issue.message,
            source: missing || key === undefined ? undefined : sources.get(key),
          });
        }
      }
      if (problems.length > 0 || !parsed.success) throw ConfigError.of(problems, usage);
      return { config: parsed.data, help: flags.help, sources };
    },
  };
}
