/**
 * The training settings moved to the tfjs-free contract folder (src/engine/config/training.ts: the settings
 * table, the schema, the defaults), which the UI and the store may import too; the engine's modules import
 * them from here or from there.
 */
export * from '../config/training';
