// The functions of js-yaml 4 the driver uses (the package ships no types; @pulumi/pulumi
// reads stack files with the same parser). load() uses the default, safe schema.
declare module "js-yaml" {
  export function load(text: string): unknown;
  export function dump(value: unknown, options?: { lineWidth?: number }): string;
}
