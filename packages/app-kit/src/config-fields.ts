import type { z } from 'zod';

/** The shape every app configuration schema has: a zod object of settings (`.strict()` recommended). */
export type AnyConfigSchema = z.ZodObject<z.ZodRawShape, z.core.$ZodObjectConfig>;

/** The names of the top-level settings of `S`. */
export type ConfigKey<S extends AnyConfigSchema> = Extract<keyof S['shape'], string>;

/** One command-line flag: the setting it sets, an optional one-letter alias and the value's name in help. */
export interface FlagSpec<K extends string = string> {
  readonly key: K;
  /** A one-letter alias without the dash (`'p'` for `-p`). */
  readonly short?: string;
  /** How help shows the value (`DIR`, `HOST:PORT`); derived from the schema when omitted. */
  readonly valueName?: string;
}

/** Flag name (without `--`) → the setting it sets, or a {@link FlagSpec}. */
export type FlagTable<K extends string = string> = { readonly [flag: string]: K | FlagSpec<K> };

/**
 * Which environment variables a configuration reads. With a `prefix`, every setting `fooBarMs` is read
 * from `<prefix>FOO_BAR_MS`; `names` renames a setting's variable or (with `false`) reads none for it.
 */
export interface EnvSpec<K extends string = string> {
  readonly prefix?: string;
  readonly names?: { readonly [P in K]?: string | false };
}

/** What kind of value a setting takes, which decides how strings from flags and env are coerced. */
export type ConfigValueKind = 'string' | 'number' | 'bigint' | 'boolean' | 'enum' | 'other';

/** One setting of an app's configuration as the command line, the environment and the docs see it. */
export interface ConfigField {
  readonly key: string;
  /** `--data-dir`, or undefined when no flag sets it. */
  readonly flag: string | undefined;
  /** `-d`, when the flag has a one-letter alias. */
  readonly short: string | undefined;
  /** `STREAMSVC_DATA_DIR`, or undefined when no variable sets it. */
  readonly env: string | undefined;
  readonly kind: ConfigValueKind;
  /** The allowed values of an enum setting. */
  readonly choices: readonly string[] | undefined;
  /** Whether the schema supplies a default (then `defaultValue` holds it). */
  readonly hasDefault: boolean;
  readonly defaultValue: unknown;
  /** True when the setting has no default and is not optional: the app cannot start without it. */
  readonly required: boolean;
  /** The schema's `.describe()` text. */
  readonly description: string | undefined;
  /** How help shows the flag's value (`N`, `woodpecker|memory`, `VALUE`). */
  readonly valueName: string;
}

/** The few parts of a zod schema's definition the loader reads (zod 4 keeps them on `.def`). */
interface SchemaNode {
  readonly description?: string | undefined;
  readonly options?: readonly unknown[];
  readonly def: {
    readonly type: string;
    readonly innerType?: SchemaNode;
    readonly in?: SchemaNode;
    readonly defaultValue?: unknown;
  };
}

/** A setting's schema with its wrappers (default, optional, pipe, ...) peeled off. */
export interface UnwrappedSetting {
  readonly kind: ConfigValueKind;
  readonly choices: readonly string[] | undefined;
  readonly hasDefault: boolean;
  readonly defaultValue: unknown;
  readonly optional: boolean;
  readonly description: string | undefined;
}

/** Looks through `default`, `optional`, `nullable`, `readonly`, `catch` and `pipe` to the value's type. */
export function unwrapSetting(schema: unknown): UnwrappedSetting {
  let node = schema as SchemaNode;
  let description: string | undefined;
  let hasDefault = false;
  let defaultValue: unknown;
  let optional = false;
  for (let depth = 0; depth < 32; depth++) {
    description ??= node.description;
    const def = node.def;
    if ((def.type === 'default' || def.type === 'prefault') && def.innerType) {
      if (!hasDefault) defaultValue = def.defaultValue;
      hasDefault = true;
      node = def.innerType;
    } else if (['optional', 'nullable', 'readonly', 'catch', 'nonoptional'].includes(def.type) && def.innerType) {
      if (def.type === 'optional') optional = true;
      node = def.innerType;
    } else if (def.type === 'pipe' && def.in) {
      node = def.in;
    } else {
      break;
    }
  }
  const type = node.def.type;
  const kind: ConfigValueKind =
    type === 'string' || type === 'number' || type === 'bigint' || type === 'boolean' || type === 'enum'
      ? type
      : 'other';
  const choices = kind === 'enum' ? (node.options ?? []).map(String) : undefined;
  return { kind, choices, hasDefault, defaultValue, optional, description };
}

/** `writeAheadBufferMs` → `WRITE_AHEAD_BUFFER_MS`. */
export function envSuffix(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toUpperCase();
}

/** The variable that sets `key` under `env`, or undefined. */
export function envNameOf(key: string, env: EnvSpec | undefined): string | undefined {
  const named = env?.names?.[key];
  if (named === false) return undefined;
  if (named !== undefined) return named;
  return env?.prefix === undefined ? undefined : `${env.prefix}${envSuffix(key)}`;
}

/** Normalises a flag table entry. */
export function flagSpecOf<K extends string>(entry: K | FlagSpec<K>): FlagSpec<K> {
  return typeof entry === 'string' ? { key: entry } : entry;
}

/**
 * Lists the settings of `schema` with the flag and variable that set each, in schema order, for
 * help texts and README tables.
 */
export function describeConfigFields(
  schema: AnyConfigSchema,
  flags: FlagTable = {},
  env?: EnvSpec,
): readonly ConfigField[] {
  const flagOf = new Map<string, { flag: string; spec: FlagSpec }>();
  for (const [flag, entry] of Object.entries(flags)) {
    const spec = flagSpecOf(entry);
    if (!flagOf.has(spec.key)) flagOf.set(spec.key, { flag, spec });
  }
  return Object.entries(schema.shape).map(([key, setting]) => {
    const s = unwrapSetting(setting);
    const f = flagOf.get(key);
    const valueName =
      f?.spec.valueName ??
      (s.kind === 'number' || s.kind === 'bigint'
        ? 'N'
        : s.kind === 'enum'
          ? (s.choices ?? []).join('|')
          : s.kind === 'boolean'
            ? ''
            : 'VALUE');
    return {
      key,
      flag: f === undefined ? undefined : `--${f.flag}`,
      short: f?.spec.short === undefined ? undefined : `-${f.spec.short}`,
      env: envNameOf(key, env),
      kind: s.kind,
      choices: s.choices,
      hasDefault: s.hasDefault,
      defaultValue: s.defaultValue,
      required: !s.hasDefault && !s.optional,
      description: s.description,
      valueName,
    };
  });
}
