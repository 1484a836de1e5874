import { useEffect } from 'react';
import { startLab, uploadFiles } from '../store/actions';
import { BackendBadge } from './BackendBadge';
import { DatasetPanel } from './DatasetPanel';
import { DistillPanel } from './DistillPanel';
import { ErrorBanner } from './ErrorBanner';
import { TemperatureExplorer } from './TemperatureExplorer';
import { TrainingPanel } from './TrainingPanel';
import { UpcomingPanel } from './UpcomingPanel';
import { useFileDrop } from './useFileDrop';

export function App() {
  useEffect(() => {
    void startLab();
  }, []);
  const drop = useFileDrop((files) => void uploadFiles(files));
  return (
    <div className={drop.dragging ? 'page dragging' : 'page'} data-testid="page" {...drop.handlers}>
      <div className="app">
        <header>
          <div>
            <h1>Distillery</h1>
            <p className="tagline">An interactive knowledge-distillation lab, training on your own GPU.</p>
          </div>
          <BackendBadge />
        </header>
        <ErrorBanner />
        <main>
          <DatasetPanel />
          <div className="training-panels">
            <TrainingPanel role="teacher" />
            <TrainingPanel role="student" />
          </div>
          <DistillPanel />
          <TemperatureExplorer />
          <UpcomingPanel
            id="anchors"
            title="Anchors"
            purpose="The AKD anchor images of each class with their learned attention masks."
          />
          <UpcomingPanel
            id="ood"
            title="Out-of-distribution"
            purpose="Uncertainty histograms and AUROC on far (MNIST) and near out-of-distribution images."
          />
        </main>
      </div>
    </div>
  );
}
