// The part of fontkit 2 the audit PDF uses (the package ships no types).
declare module 'fontkit' {
  export function openSync(path: string): unknown;
}
