import GossipRPC
import GossipWire

/// Client-side descriptors of `gossip.v1.Gossip`.
public enum GossipMethods {
    public static let service = "gossip.v1.Gossip"
    public static let exchange = MethodDescriptor<GossipV1.ModelValues, GossipV1.ModelValues>(service: service, method: "Exchange")
    public static let fetchModel = MethodDescriptor<GossipV1.FetchModelRequest, GossipV1.ModelChunk>(service: service, method: "FetchModel")
    public static let probe = MethodDescriptor<GossipV1.ProbeRequest, GossipV1.ProbeResponse>(service: service, method: "Probe")
    public static let status = MethodDescriptor<GossipV1.StatusRequest, GossipV1.TrainingStatus>(service: service, method: "Status")
    public static let followTraining = MethodDescriptor<GossipV1.FollowTrainingRequest, GossipV1.CommittedTraining>(
        service: service, method: "FollowTraining")
}
