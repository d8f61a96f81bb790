// Single source of the tool's name and version (package.json is not imported at run time so
// bundles stay self-contained).
export const TOOL_NAME = 'tfaudit';
export const TOOL_VERSION = '0.1.0';
