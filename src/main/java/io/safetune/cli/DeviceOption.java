package io.safetune.cli;

import ai.djl.Device;

import picocli.CommandLine.Option;

/** {@code --device cpu|gpu|gpu:N}: where tensors live. GPUs need a CUDA build of libtorch (docs/real-checkpoints-and-gpus.md). */
final class DeviceOption {

    @Option(names = "--device", defaultValue = "cpu", paramLabel = "DEVICE",
            description = "cpu (default), gpu or gpu:N — a GPU needs the CUDA native artifact, see docs/real-checkpoints-and-gpus.md")
    String device;

    Device get() {
        Device d = Device.fromName(device);
        if (d.isGpu() && ai.djl.engine.Engine.getInstance().getGpuCount() <= d.getDeviceId()) {
            throw new IllegalArgumentException("--device: " + device + " requested but libtorch sees "
                    + ai.djl.engine.Engine.getInstance().getGpuCount() + " GPU(s); is a CUDA native artifact on the classpath?");
        }
        return d;
    }
}
