package dev.understudy.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/** What an agent publishes about itself: where to reach it, what it has, how it feels. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ServerRecord(String id, String address, String apiUrl, int heartbeatPort, boolean witness,
                           Inventory inventory, boolean uplinkOk, String uplinkReason, List<String> fenced) {}
