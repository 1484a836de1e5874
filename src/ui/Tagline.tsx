import { useBackendStore } from '../store/stores';

/**
 * The lab's one-line promise, true for this browser: "on your own GPU" only when the backend runs on a GPU
 * that is not a software fallback; otherwise where it really trains.
 */
export function Tagline() {
  const report = useBackendStore((s) => s.report);
  let where = 'in your browser';
  if (report) {
    const gpu = (report.backend === 'webgpu' || report.backend === 'webgl') && !report.software;
    if (gpu) where = `on your own GPU (${report.backend === 'webgpu' ? 'WebGPU' : 'WebGL'})`;
    else if (report.backend === 'wasm') where = `on your own CPU (${report.adapter})`;
    else if (report.backend === 'cpu') where = 'on your own CPU (plain JavaScript, the slowest path)';
    else where = `on a software-emulated GPU (${report.backend})`;
  }
  return (
    <p className="tagline" data-testid="tagline">
      An interactive knowledge-distillation lab, training {where}.
    </p>
  );
}
