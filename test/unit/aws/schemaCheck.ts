/**
 * Checks the inputs of a registered resource against the input types that the installed
 * `@pulumi/aws` and `@pulumi/awsx` declare, read from their `.d.ts` files with the TypeScript
 * compiler API. Pulumi's mocks accept any input; the providers do not (an unknown nested key
 * fails `pulumi up`, pulumi/pulumi#6096), so every mock test runs its resources through this.
 */
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

/** One input that the declared types do not allow. */
export interface SchemaViolation {
  /** `<type token> "<name>"`. */
  resource: string;
  /** Where in the inputs, e.g. `healthCheck.intervalSeconds` or `ingress[0].fromPort`. */
  path: string;
  /** What is wrong and what is allowed. */
  message: string;
}

export function formatViolation(v: SchemaViolation): string {
  return `${v.resource}: ${v.path}: ${v.message}`;
}

/**
 * Resource types of our own, with no package declaring their inputs: component resources, and
 * the local platform's dynamic resources (typed by their Args interfaces, read by their own
 * providers).
 */
export const OWN_TYPE_PREFIXES = ["ecs-canary:", "pulumi-nodejs:dynamic/local:"];

const PACKAGES: Record<string, string> = { aws: "@pulumi/aws", awsx: "@pulumi/awsx" };

/** Where the Args interface of a resource type token is declared. */
export interface ArgsLocation {
  packageName: string;
  /** The declaration file, relative to the package root. */
  file: string;
  interfaceName: string;
}

/**
 * `aws:lb/targetGroup:TargetGroup` -> `@pulumi/aws` `lb/targetGroup.d.ts` `TargetGroupArgs`;
 * `aws:index/provider:Provider` -> `provider.d.ts`; `awsx:ec2:Vpc` -> `@pulumi/awsx`
 * `ec2/index.d.ts` (which re-exports `VpcArgs`); `pulumi:providers:aws` -> the package's
 * `ProviderArgs`. Undefined for a package whose types are not installed here.
 */
export function argsLocation(type: string): ArgsLocation | undefined {
  const [pkg, module, name] = type.split(":");
  if (name === undefined) return undefined;
  if (pkg === "pulumi" && module === "providers" && PACKAGES[name] !== undefined) {
    return { packageName: PACKAGES[name], file: "provider.d.ts", interfaceName: "ProviderArgs" };
  }
  const packageName = PACKAGES[pkg];
  if (packageName === undefined) return undefined;
  const file = module.includes("/")
    ? `${module.replace(/^index\//, "")}.d.ts`
    : module === "index"
      ? "index.d.ts"
      : `${module}/index.d.ts`;
  return { packageName, file, interfaceName: `${name}Args` };
}

/**
 * String inputs that hold a JSON document whose shape the package declares: checked as if
 * the parsed document were the input. The provider unmarshals container definitions into the
 * ECS API's structure, where an unknown key is dropped without a word.
 */
const JSON_INPUTS: Record<
  string,
  Record<string, { file: string; type: string; array: boolean }>
> = {
  "aws:ecs/taskDefinition:TaskDefinition": {
    containerDefinitions: { file: "ecs/container.d.ts", type: "ContainerDefinition", array: true },
  },
};

/** A package's folder, symlinks resolved: the module resolver reports real paths. */
function packageRoot(packageName: string): string {
  return fs.realpathSync(path.dirname(require.resolve(`${packageName}/package.json`)));
}

const COMPILER_OPTIONS: ts.CompilerOptions = {
  noEmit: true,
  strict: true,
  skipLibCheck: true,
  types: [],
  lib: ["lib.es2022.d.ts"],
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.CommonJS,
  moduleResolution: ts.ModuleResolutionKind.Node10,
  // Only the files `closure` picks: the whole of @pulumi/aws is thousands of files.
  noResolve: true,
};

/**
 * Package entry points followed only into the namespaces that input types use: a provider
 * SDK's `types` (other packages' input types reach it as `pulumiAws.types.input.*`) and
 * @pulumi/pulumi's `output` (`Input<T>`). A type that needs a file left out resolves to the
 * checker's `error` type, which the check reports: it never passes silently.
 */
function shallowEntries(): Map<string, string[]> {
  return new Map([
    ...Object.values(PACKAGES).map((p) => [path.join(packageRoot(p), "index.d.ts"), ["./types"]]),
    [path.join(packageRoot("@pulumi/pulumi"), "index.d.ts"), ["./output"]],
  ] as [string, string[]][]);
}

/** Output types (what resources return) are never part of an Args type. */
const OUTPUT_TYPES = /[\\/]@pulumi[\\/][^\\/]+[\\/]types[\\/]output\.d\.ts$/;

/**
 * The typings as one program, kept for the process. It grows with the resource types met:
 * parsed files are cached, so adding one is a few milliseconds; the first build (the 5 MB of
 * @pulumi/aws input types) takes a second or two.
 */
class Typings {
  private readonly files = new Set<string>();
  private readonly parsed = new Map<string, ts.SourceFile | undefined>();
  private readonly host = ts.createCompilerHost(COMPILER_OPTIONS);
  private readonly shallow = shallowEntries();
  private program: ts.Program | undefined;
  private types = new Map<string, ts.Type | string>();
  checker: ts.TypeChecker | undefined;
  /** Milliseconds spent reading typings and building programs, in total. */
  loadMs = 0;

  constructor() {
    const read = this.host.getSourceFile.bind(this.host);
    this.host.getSourceFile = (fileName, language, onError, create) => {
      if (!this.parsed.has(fileName))
        this.parsed.set(fileName, read(fileName, language, onError, create));
      return this.parsed.get(fileName);
    };
  }

  /** Adds a file and what it imports (see `shallowEntries`); rebuilds the program when that grew it. */
  private include(entry: string): void {
    const queue = [entry];
    let grew = false;
    while (queue.length > 0) {
      const file = queue.pop() as string;
      if (this.files.has(file)) continue;
      this.files.add(file);
      grew = true;
      const only = this.shallow.get(file);
      const { importedFiles } = ts.preProcessFile(fs.readFileSync(file, "utf8"), true, false);
      for (const { fileName: specifier } of importedFiles) {
        if (only && !only.some((o) => specifier === o || specifier.startsWith(`${o}/`))) continue;
        const resolved = ts.resolveModuleName(specifier, file, COMPILER_OPTIONS, ts.sys)
          .resolvedModule?.resolvedFileName;
        if (resolved?.endsWith(".d.ts") && !OUTPUT_TYPES.test(resolved)) queue.push(resolved);
      }
    }
    if (grew || this.program === undefined) {
      this.program = ts.createProgram([...this.files], COMPILER_OPTIONS, this.host, this.program);
      this.checker = this.program.getTypeChecker();
      this.types = new Map();
    }
  }

  /**
   * The declared types of exported interfaces (or a line saying why one cannot be found),
   * from one program: all files are included before any type is looked up.
   */
  exportedTypes(
    packageName: string,
    wanted: { file: string; name: string }[],
  ): (ts.Type | string)[] {
    const started = Date.now();
    const fileNames = wanted.map(({ file }) => path.join(packageRoot(packageName), file));
    for (const fileName of fileNames) if (fs.existsSync(fileName)) this.include(fileName);
    this.loadMs += Date.now() - started;
    return wanted.map(({ file, name }, i) => {
      const key = `${fileNames[i]}#${name}`;
      let found = this.types.get(key);
      if (found === undefined) {
        found = this.lookUp(fileNames[i], name) ?? `${packageName}/${file} declares no ${name}`;
        this.types.set(key, found);
      }
      return found;
    });
  }

  private lookUp(fileName: string, name: string): ts.Type | undefined {
    const checker = this.checker as ts.TypeChecker;
    const source = this.program?.getSourceFile(fileName);
    const moduleSymbol = source && checker.getSymbolAtLocation(source);
    let symbol =
      moduleSymbol && checker.getExportsOfModule(moduleSymbol).find((s) => s.name === name);
    if (symbol !== undefined && symbol.flags & ts.SymbolFlags.Alias) {
      symbol = checker.getAliasedSymbol(symbol);
    }
    return symbol && checker.getDeclaredTypeOfSymbol(symbol);
  }
}

let typings: Typings | undefined;
function loadTypings(): Typings {
  typings ??= new Typings();
  return typings;
}

/** Milliseconds this process has spent reading the typings and building programs so far. */
export function schemaLoadMs(): number {
  return typings?.loadMs ?? 0;
}

type Kind = "string" | "number" | "boolean" | "array" | "object";

function kindOfValue(value: unknown): Kind | undefined {
  if (Array.isArray(value)) return "array";
  switch (typeof value) {
    case "string":
    case "number":
    case "boolean":
      return typeof value as Kind;
    case "object":
      return value === null ? undefined : "object";
    default:
      return undefined;
  }
}

/** The checker's `error` type stands for a name it could not resolve: never pass on it. */
function isUnresolved(type: ts.Type): boolean {
  return (
    (type.flags & ts.TypeFlags.Any) !== 0 &&
    (type as { intrinsicName?: string }).intrinsicName === "error"
  );
}

const WRAPPERS = new Set(["Promise", "OutputInstance", "Output"]);

class Checker {
  readonly violations: SchemaViolation[] = [];
  constructor(
    private readonly checker: ts.TypeChecker,
    private readonly resource: string,
  ) {}

  private fail(at: string, message: string) {
    this.violations.push({ resource: this.resource, path: at || "(inputs)", message });
  }

  /** The alternatives a value may take: unions flattened, Input's Promise/Output and undefined dropped. */
  private alternatives(type: ts.Type): ts.Type[] {
    const members = type.isUnion() ? type.types : [type];
    return members.filter((t) => {
      if (t.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Null | ts.TypeFlags.Void)) return false;
      const name = (t.aliasSymbol ?? t.getSymbol())?.name;
      return !(t.flags & ts.TypeFlags.Object && name !== undefined && WRAPPERS.has(name));
    });
  }

  private kindOfType(type: ts.Type): Kind | "any" | undefined {
    const f = type.flags;
    if (f & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return "any";
    if (f & ts.TypeFlags.StringLike) return "string";
    if (f & ts.TypeFlags.NumberLike) return "number";
    if (f & ts.TypeFlags.BooleanLike) return "boolean";
    if (this.checker.isArrayType(type) || this.checker.isTupleType(type)) return "array";
    if (f & (ts.TypeFlags.Object | ts.TypeFlags.Intersection | ts.TypeFlags.NonPrimitive)) {
      return "object";
    }
    return undefined;
  }

  private describe(types: ts.Type[]): string {
    return [...new Set(types.map((t) => this.checker.typeToString(t)))].join(" | ");
  }

  check(value: unknown, type: ts.Type, at: string): void {
    if (value === undefined || value === null) return;
    const alternatives = this.alternatives(type);
    if (alternatives.some(isUnresolved)) {
      this.fail(at, "its declared type could not be resolved from the installed typings");
      return;
    }
    if (alternatives.some((t) => this.kindOfType(t) === "any")) return;
    const kind = kindOfValue(value);
    const matching = alternatives.filter((t) => this.kindOfType(t) === kind);
    const shown = JSON.stringify(value);
    if (kind === undefined || matching.length === 0) {
      this.fail(
        at,
        `${kind ?? typeof value} ${shown.length > 60 ? shown.slice(0, 57) + "..." : shown} where ${this.describe(alternatives)} is declared`,
      );
      return;
    }
    switch (kind) {
      case "string":
      case "number":
      case "boolean":
        this.checkLiteral(value as string | number | boolean, matching, at);
        return;
      case "array":
        (value as unknown[]).forEach((item, i) => {
          const element = this.elementType(matching[0], i);
          if (element !== undefined) this.check(item, element, `${at}[${i}]`);
        });
        return;
      case "object":
        this.checkObjectAlternatives(value as Record<string, unknown>, matching, at);
        return;
    }
  }

  /** Where only literals are declared (an enum, `"tcp" | "udp"`), the value must be one of them. */
  private checkLiteral(value: string | number | boolean, types: ts.Type[], at: string) {
    const literals: unknown[] = [];
    for (const t of types) {
      if (t.isLiteral()) literals.push(t.value);
      else if (t.flags & ts.TypeFlags.BooleanLiteral) {
        literals.push(this.checker.typeToString(t) === "true");
      } else return;
    }
    if (!literals.includes(value)) {
      this.fail(at, `${JSON.stringify(value)} where ${this.describe(types)} is declared`);
    }
  }

  private elementType(type: ts.Type, index: number): ts.Type | undefined {
    const args = this.checker.getTypeArguments(type as ts.TypeReference);
    return this.checker.isTupleType(type) ? args[index] : args[0];
  }

  /** Several object types allowed (a union): the value passes when it fits one of them. */
  private checkObjectAlternatives(value: Record<string, unknown>, types: ts.Type[], at: string) {
    let best: SchemaViolation[] | undefined;
    for (const type of types) {
      const attempt = new Checker(this.checker, this.resource);
      attempt.checkObject(value, type, at);
      if (attempt.violations.length === 0) return;
      if (best === undefined || attempt.violations.length < best.length) best = attempt.violations;
    }
    this.violations.push(...(best ?? []));
  }

  checkObject(value: Record<string, unknown>, type: ts.Type, at: string): void {
    const properties = this.checker.getPropertiesOfType(type);
    const index = this.checker
      .getIndexInfosOfType(type)
      .find((i) => i.keyType.flags & ts.TypeFlags.String);
    const prefix = at === "" ? "" : `${at}.`;
    for (const [key, item] of Object.entries(value)) {
      const property = properties.find((p) => p.name === key);
      if (property !== undefined) {
        this.check(item, this.checker.getTypeOfSymbol(property), `${prefix}${key}`);
      } else if (index !== undefined) {
        this.check(item, index.type, `${prefix}${key}`);
      } else {
        const allowed = properties.map((p) => p.name).sort();
        this.fail(
          `${prefix}${key}`,
          `unknown key; ${this.checker.typeToString(type)} allows ${allowed.join(", ")}`,
        );
      }
    }
    for (const property of properties) {
      const optional = property.flags & ts.SymbolFlags.Optional;
      if (!optional && value[property.name] === undefined) {
        this.fail(
          `${prefix}${property.name}`,
          `required by ${this.checker.typeToString(type)} but missing`,
        );
      }
    }
  }

  checkJson(raw: unknown, type: ts.Type, array: boolean, at: string): void {
    if (typeof raw !== "string") return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (error) {
      this.fail(at, `not JSON: ${(error as Error).message}`);
      return;
    }
    if (!array) {
      this.check(parsed, type, at);
    } else if (!Array.isArray(parsed)) {
      this.fail(at, `a JSON ${kindOfValue(parsed)} where an array is declared`);
    } else {
      parsed.forEach((item, i) => this.check(item, type, `${at}[${i}]`));
    }
  }
}

/**
 * Every way the inputs of a resource of type `type` break the installed packages' declared
 * input types: unknown keys, values of the wrong kind (string, number, boolean, object,
 * array) or outside a declared set of literals, missing required inputs; recursively through
 * nested objects and arrays. Types of our own are not checked.
 */
export function checkResourceInputs(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
): SchemaViolation[] {
  const resource = `${type} "${name}"`;
  if (OWN_TYPE_PREFIXES.some((prefix) => type.startsWith(prefix))) return [];
  const location = argsLocation(type);
  if (location === undefined) {
    return [{ resource, path: "(type)", message: "no installed package declares its inputs" }];
  }
  const json = Object.entries(JSON_INPUTS[type] ?? {});
  const loaded = loadTypings();
  const [declared, ...shapes] = loaded.exportedTypes(location.packageName, [
    { file: location.file, name: location.interfaceName },
    ...json.map(([, shape]) => ({ file: shape.file, name: shape.type })),
  ]);
  if (typeof declared === "string") return [{ resource, path: "(type)", message: declared }];
  const check = new Checker(loaded.checker as ts.TypeChecker, resource);
  check.checkObject(inputs, declared, "");
  json.forEach(([key, { array }], i) => {
    const shape = shapes[i];
    if (typeof shape === "string") check.violations.push({ resource, path: key, message: shape });
    else check.checkJson(inputs[key], shape, array, key);
  });
  return check.violations;
}
