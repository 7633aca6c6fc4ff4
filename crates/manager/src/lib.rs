//! rswarm manager: control API, leader loops, dispatcher
